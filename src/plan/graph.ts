// Changes → a dependency graph → rounds of batches. Pure.
//
// A round holds one batch per scope (one `ip -batch` per namespace, one for the root namespace,
// ...); the batches of a round run in parallel, the rounds one after another. A change joins the
// round of its latest dependency when both run in the same scope (the batch keeps their order)
// and the round after it otherwise, so a whole lab usually takes two rounds: the root namespace
// makes the namespaces and veth pairs, then every namespace configures itself in one batch.
import { Graph, alg } from '@dagrejs/graphlib';
import { scopeKey, scopeOf, type Scope } from '../kernel/commands.js';
import { CycleError } from '../errors.js';
import type { Change } from './change.js';


function endpointKey(node: string, name: string): string {
  return `${node}:${name}`;
}

/** The interface a per-interface sysctl is about ("net.ipv4.conf.eth0.rp_filter" → eth0), if any. */
export function sysctlInterface(key: string): string | undefined {
  const match = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key);
  const dev = match?.[1]?.replace(/\//g, '.');
  return dev === undefined || dev === 'all' || dev === 'default' ? undefined : dev;
}

/** What each change depends on, by id. */
export function dependencies(changes: readonly Change[]): Map<string, string[]> {
  const netnsCreate = new Map<string, string>();
  const makes = new Map<string, string>(); // node:link → the change that creates that link
  const linkDeletes = new Map<string, string>();
  const byNode = new Map<string, Change[]>();
  const vethsInto = new Map<string, string[]>(); // node → veths made from another node's side
  for (const c of changes) {
    const mine = byNode.get(c.node);
    if (mine) mine.push(c);
    else byNode.set(c.node, [c]);
    if (c.kind === 'veth' && c.peer.node !== c.node) vethsInto.set(c.peer.node, [...(vethsInto.get(c.peer.node) ?? []), c.id]);
    // A namespace made, or published (attach), comes before everything done inside it.
    if ((c.kind === 'netns' || c.kind === 'publish') && c.action === 'create') netnsCreate.set(c.node, c.id);
    if (c.kind === 'bridge') makes.set(endpointKey(c.node, c.name), c.id);
    if (c.kind === 'veth') {
      makes.set(endpointKey(c.node, c.name), c.id);
      makes.set(endpointKey(c.peer.node, c.peer.name), c.id);
    }
    if (c.kind === 'link-delete') {
      linkDeletes.set(endpointKey(c.node, c.name), c.id);
      for (const end of c.peerEnds ?? []) linkDeletes.set(endpointKey(end.node, end.name), c.id);
    }
  }
  const sameNode = (c: Change, pick: (o: Change) => boolean) => (byNode.get(c.node) ?? []).filter((o) => o !== c && pick(o)).map((o) => o.id);
  const byId = new Map(changes.map((c) => [c.id, c]));
  const maker = (node: string, dev: string) => byId.get(makes.get(endpointKey(node, dev)) ?? '');
  // Listed once per node: a hub's thousand ports must not each scan the hub's every change.
  const beforeUp = new Map<string, Change[]>();
  for (const c of changes) {
    if (c.kind !== 'sysctl' || !c.beforeUp) continue;
    const list = beforeUp.get(c.node);
    if (list) list.push(c);
    else beforeUp.set(c.node, [c]);
  }
  const madeBefore = (c: Change) => beforeUpFirst(c, beforeUp.get(c.node) ?? [], maker);

  const deps = new Map<string, string[]>();
  for (const c of changes) {
    const d: Array<string | undefined> = [];
    if (c.kind !== 'netns' && c.kind !== 'publish') d.push(netnsCreate.get(c.node));
    switch (c.kind) {
      case 'veth':
        d.push(netnsCreate.get(c.peer.node), linkDeletes.get(endpointKey(c.node, c.name)), linkDeletes.get(endpointKey(c.peer.node, c.peer.name)));
        break;
      case 'bridge':
        d.push(linkDeletes.get(endpointKey(c.node, c.name)));
        break;
      case 'settings':
        d.push(makes.get(endpointKey(c.node, c.name)));
        // A link set down takes its routes with it: the lab's own route deletes go first.
        if (c.set.up === false) d.push(...sameNode(c, (o) => o.kind === 'route' && o.action === 'delete'));
        if (c.set.master) d.push(makes.get(endpointKey(c.node, c.set.master)));
        break;
      case 'address':
        d.push(makes.get(endpointKey(c.node, c.dev)));
        if (c.action === 'create') d.push(...sameNode(c, (o) => o.kind === 'address' && o.action === 'delete'));
        break;
      case 'route':
        if (c.action !== 'delete') {
          d.push(...sameNode(c, (o) => ['veth', 'bridge', 'settings', 'address'].includes(o.kind) || (o.kind === 'route' && o.action === 'delete')));
        }
        break;
      case 'publish':
        // After ip netns add has set /run/netns up, which would otherwise cover the mount.
        if (c.action === 'create') d.push(...changes.filter((o) => o.kind === 'netns' && o.action === 'create').map((o) => o.id));
        // Unpublished last: until then /run/netns/<name> is how the lab's commands reach inside.
        if (c.action === 'delete') d.push(...sameNode(c, () => true));
        break;
      case 'netns':
        // A veth end in a kept namespace whose peer is in this one is deleted first, and at once;
        // the kernel would only clean it up some time after the namespace goes.
        if (c.action === 'delete') d.push(...linkDeletes.values(), ...sameNode(c, (o) => o.kind === 'evict'));
        break;
      case 'run':
        // Started once the node's network is in place; stopped before anything else goes.
        if (c.action === 'create') d.push(...sameNode(c, (o) => o.kind !== 'run'));
        break;
      case 'sysctl': {
        const dev = sysctlInterface(c.key);
        if (dev) d.push(makes.get(endpointKey(c.node, dev)));
        break;
      }
      default:
        break;
    }
    d.push(...madeBefore(c));
    // A veth made from the other end's node is a dependency here too.
    if (c.kind === 'route' || (c.kind === 'run' && c.action === 'create')) d.push(...(vethsInto.get(c.node) ?? []));
    deps.set(c.id, [...new Set(d.filter((x): x is string => x !== undefined && x !== c.id))].sort());
  }
  return deps;
}

/** What a node's own `ip` batch does that must wait for its links' sysctls (not a delete: the new link comes after it). */
const WAITS_FOR_BEFORE_UP: ReadonlySet<Change['kind']> = new Set(['loopback', 'bridge', 'settings', 'address', 'route']);

/**
 * The node's beforeUp sysctls (plan/dad.ts) that `c` waits for. The settings that bring a link up
 * wait for its own; the rest of the node's ip batch waits too, so that it stays one batch, unless
 * the sysctl itself comes after something in that batch (a bridge set by name, made there).
 */
function beforeUpFirst(c: Change, sysctls: readonly Change[], maker: (node: string, dev: string) => Change | undefined): string[] {
  if (!WAITS_FOR_BEFORE_UP.has(c.kind)) return [];
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

/** Kinds whose change reaches into another namespace too: a veth's far end goes or comes with it. */
const REACHES_ACROSS: ReadonlySet<Change['kind']> = new Set(['veth', 'link-delete', 'netns']);

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
  // reaching[r]: how many batches of round r or later have a change that reaches across.
  const reaching = new Array<number>(plan.rounds.length + 1).fill(0);
  plan.rounds.forEach((round, r) => {
    for (const b of round) {
      const reaches = b.changes.some((c) => REACHES_ACROSS.has(c.kind));
      if (reaches) reaching[r]! += 1;
      if (b.scope.tool === tool && b.scope.netns !== null) last.set(b.scope.netns, { round: r, reaches });
      if (b.scope.tool === 'ip' && b.scope.netns !== null) lastIp.set(b.scope.netns, r);
      if (b.scope.tool === 'sysctl' && b.scope.netns !== null && b.changes.some(changesIpState)) lastIpv6Sysctl.set(b.scope.netns, r);
    }
  });
  for (let r = plan.rounds.length - 1; r >= 0; r--) reaching[r]! += reaching[r + 1]!;
  const settled = new Map<string, number>();
  for (const [netns, { round, reaches }] of last) {
    if (tool === 'ip') {
      const others = reaching[round]! - (reaches ? 1 : 0);
      if (others === 0 && (lastIpv6Sysctl.get(netns) ?? -1) < round) settled.set(netns, round);
    } else if (reaching[round + 1] === 0 && (lastIp.get(netns) ?? -1) <= round) {
      settled.set(netns, round);
    }
  }
  return settled;
}
