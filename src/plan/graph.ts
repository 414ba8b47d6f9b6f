// Changes → a dependency graph → rounds of batches. Pure.
//
// A round holds one batch per scope (one `ip -batch` per namespace, one for the root namespace,
// ...); the batches of a round run in parallel, the rounds one after another. A change joins the
// round of its latest dependency when both run in the same scope (the batch keeps their order)
// and the round after it otherwise, so a whole lab usually takes two rounds: the root namespace
// makes the namespaces and veth pairs, then every namespace configures itself in one batch.
import { Graph, alg } from '@dagrejs/graphlib';
import { CycleError } from '../errors.js';
import { resourceOf, scopeOf } from '../resources/registry.js';
import { endKey, scopeKey, type ChangeIndex, type ChangeOfAnyKind, type Scope } from '../resources/resource.js';
import { sysctlInterface } from '../resources/sysctl.js';
import type { Change } from './change.js';

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The plan's changes indexed once: a hub's thousand ports must not each scan the hub's every change. */
function indexChanges(changes: readonly Change[]): ChangeIndex {
  const namespaceMade = new Map<string, string>();
  const made = new Map<string, string>(); // node:link → the change that creates that link
  const deleted = new Map<string, string>();
  const byNode = new Map<string, Change[]>();
  const vethsInto = new Map<string, string[]>(); // node → veths made from another node's side
  for (const c of changes) {
    const resource = resourceOf(c);
    pushTo(byNode, c.node, c);
    if (c.kind === 'veth' && c.peer.node !== c.node) pushTo(vethsInto, c.peer.node, c.id);
    if (resource.opensNamespace?.(c)) namespaceMade.set(c.node, c.id);
    for (const end of resource.makes?.(c) ?? []) made.set(endKey(end), c.id);
    for (const end of resource.deletes?.(c) ?? []) deleted.set(endKey(end), c.id);
  }
  const ids = (list: readonly Change[], self: Change | undefined, pick: (o: ChangeOfAnyKind) => boolean) =>
    list.filter((o) => o !== self && pick(o as unknown as ChangeOfAnyKind)).map((o) => o.id);
  return {
    namespaceMade: (node) => namespaceMade.get(node),
    linkMade: (node, name) => made.get(endKey({ node, name })),
    linkDeleted: (node, name) => deleted.get(endKey({ node, name })),
    sameNode: (c, pick) => ids(byNode.get(c.node) ?? [], c as Change, pick),
    all: (pick) => ids(changes, undefined, pick),
    vethsInto: (node) => vethsInto.get(node) ?? [],
  };
}

/** What each change depends on, by id. */
export function dependencies(changes: readonly Change[]): Map<string, string[]> {
  const index = indexChanges(changes);
  const byId = new Map(changes.map((c) => [c.id, c]));
  const beforeUp = new Map<string, Change[]>();
  for (const c of changes) if (c.kind === 'sysctl' && c.beforeUp) pushTo(beforeUp, c.node, c);
  const maker = (node: string, dev: string) => byId.get(index.linkMade(node, dev) ?? '');

  const deps = new Map<string, string[]>();
  for (const c of changes) {
    const resource = resourceOf(c);
    // A namespace made, or published (attach), comes before everything done inside it.
    const d: Array<string | undefined> = resource.opensNamespace ? [] : [index.namespaceMade(c.node)];
    d.push(...(resource.dependsOn?.(c, index) ?? []));
    if (resource.waitsForBeforeUp) d.push(...beforeUpFirst(c, beforeUp.get(c.node) ?? [], maker));
    deps.set(c.id, [...new Set(d.filter((x): x is string => x !== undefined && x !== c.id))].sort());
  }
  return deps;
}

/**
 * The node's beforeUp sysctls (resources/dad.ts) that `c` waits for. The settings that bring a link up
 * wait for its own; the rest of the node's ip batch waits too, so that it stays one batch, unless
 * the sysctl itself comes after something in that batch (a bridge set by name, made there).
 */
function beforeUpFirst(c: Change, sysctls: readonly Change[], maker: (node: string, dev: string) => Change | undefined): string[] {
  const ids: string[] = [];
  for (const s of sysctls) {
    if (s.kind !== 'sysctl') continue;
    const dev = sysctlInterface(s.key);
    const made = dev === undefined ? undefined : maker(s.node, dev);
    const ownLink = c.kind === 'settings' && c.name === dev;
    if (ownLink || !made || scopeKey(scopeOf(made)) !== scopeKey(scopeOf(c))) ids.push(s.id);
  }
  return ids;
}

export interface Batch {
  scope: Scope;
  /** In dependency order. */
  changes: Change[];
}

export interface Schedule {
  rounds: Batch[][];
  deps: Map<string, string[]>;
}


export function schedule(changes: readonly Change[]): Schedule {
  const deps = dependencies(changes);
  const graph = new Graph();
  const byId = new Map(changes.map((c) => [c.id, c]));
  for (const c of changes) graph.setNode(c.id);
  for (const [id, ds] of deps) for (const d of ds) graph.setEdge(d, id);
  if (!alg.isAcyclic(graph)) throw new CycleError(alg.findCycles(graph));

  const round = new Map<string, number>();
  // topsort is stable for a given insertion order; ties resolve in the plan's sorted order.
  const order = alg.topsort(graph);
  for (const id of order) {
    const c = byId.get(id)!;
    const key = scopeKey(scopeOf(c));
    let r = 0;
    for (const d of deps.get(id) ?? []) {
      const dr = round.get(d)!;
      r = Math.max(r, scopeKey(scopeOf(byId.get(d)!)) === key ? dr : dr + 1);
    }
    round.set(id, r);
  }
  const rounds: Batch[][] = [];
  const batchOf = new Map<string, Batch>(); // "round/scope" → its batch
  for (const id of order) {
    const c = byId.get(id)!;
    const r = round.get(id)!;
    const scope = scopeOf(c);
    const key = `${r}/${scopeKey(scope)}`;
    let batch = batchOf.get(key);
    if (!batch) {
      batchOf.set(key, (batch = { scope, changes: [] }));
      (rounds[r] ??= []).push(batch);
    }
    batch.changes.push(c);
  }
  return { rounds: rounds.filter((r) => r !== undefined), deps };
}

/** Sysctls that add or remove addresses and routes: IPv6 settings of an interface, but not forwarding. */
function changesIpState(c: Change): boolean {
  return c.kind === 'sysctl' && c.key.startsWith('net.ipv6.conf.') && !c.key.endsWith('.forwarding');
}

/**
 * Namespaces whose links, addresses and routes are final once their last ip batch is done, by the
 * round of that batch: nothing in that round or later reaches into them. Reading them at the end
 * of that same batch (one `ip -batch` that changes, then shows) is then as good as a read after the
 * run, without a process of its own.
 */
export function settledByOwnLastBatch(plan: Schedule): Map<string, number> {
  return settled(plan, 'ip');
}

/**
 * The same for sysctls: namespaces whose last sysctl batch no later ip batch of theirs, and no
 * later change reaching across, can undo (a per-interface key goes with its interface). That
 * batch's `sysctl` writes, then reads the node's keys back, in one process.
 */
export function sysctlsSettledByOwnLastBatch(plan: Schedule): Map<string, number> {
  return settled(plan, 'sysctl');
}

function settled(plan: Schedule, tool: 'ip' | 'sysctl'): Map<string, number> {
  const last = new Map<string, { round: number; reaches: boolean }>();
  const lastIp = new Map<string, number>();
  const lastIpv6Sysctl = new Map<string, number>();
  // A link's root qdisc is in what ip shows: a tc batch at or after the last ip batch unsettles it.
  const lastTc = new Map<string, number>();
  // reaching[r]: how many batches of round r or later have a change that reaches across.
  const reaching = new Array<number>(plan.rounds.length + 1).fill(0);
  plan.rounds.forEach((round, r) => {
    for (const b of round) {
      const reaches = b.changes.some((c) => resourceOf(c).reachesAcross === true);
      if (reaches) reaching[r]! += 1;
      if (b.scope.tool === tool && b.scope.netns !== null) last.set(b.scope.netns, { round: r, reaches });
      if (b.scope.tool === 'ip' && b.scope.netns !== null) lastIp.set(b.scope.netns, r);
      if (b.scope.tool === 'sysctl' && b.scope.netns !== null && b.changes.some(changesIpState)) lastIpv6Sysctl.set(b.scope.netns, r);
      if (b.scope.tool === 'tc' && b.scope.netns !== null) lastTc.set(b.scope.netns, r);
    }
  });
  for (let r = plan.rounds.length - 1; r >= 0; r--) reaching[r]! += reaching[r + 1]!;
  const settled = new Map<string, number>();
  for (const [netns, { round, reaches }] of last) {
    if (tool === 'ip') {
      const others = reaching[round]! - (reaches ? 1 : 0);
      if (others === 0 && (lastIpv6Sysctl.get(netns) ?? -1) < round && (lastTc.get(netns) ?? -1) < round) settled.set(netns, round);
    } else if (reaching[round + 1] === 0 && (lastIp.get(netns) ?? -1) <= round) {
      settled.set(netns, round);
    }
  }
  return settled;
}
