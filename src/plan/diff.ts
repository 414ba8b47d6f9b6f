// (desired, actual) → the changes that make actual equal desired. Pure.
//
// Each node is compared on its own: its namespace's life here (nodes.ts), the objects inside it by
// their resource modules (src/resources/), in registry order. A veth pair or a deleted veth end
// shows up from both of its nodes; the plan keeps it once (dedupe below).
import { formatEndpoint } from '../model/names.js';
import type { LabState, NodeState } from '../model/types.js';
import { linkFate } from '../resources/link-fate.js';
import { changeId, compareChanges, NODE_RESOURCES } from '../resources/registry.js';
import type { NodeFacts } from '../resources/resource.js';
import type { Change, Conflict, NewChange, Plan } from './change.js';
import { diffOwnedNode, diffPartialNode } from './nodes.js';
import type { PartialOwnership } from './ownership.js';
import { ownsWholeNamespace } from '../model/types.js';
import type { OtherLabsClaims } from './other-labs.js';

export interface DiffOptions {
  /** Every node the lab's record lists: a stale /run/netns file is the lab's to remove only for these. */
  known?: ReadonlySet<string>;
  /** Per host or attach node, what the lab's record says it made there. */
  partial?: ReadonlyMap<string, PartialOwnership>;
  /** Per host or attach node, each sysctl's value from before the lab changed it. */
  sysctlOriginals?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * Per host or attach node, for a sysctl whose write resets every interface's own key (ip_forward,
   * all.forwarding): those interface keys with their values from before the lab, where they differ.
   */
  interfaceSysctls?: ReadonlyMap<string, Readonly<Record<string, Readonly<Record<string, string>>>>>;
  /** Per node, what other labs' records list as theirs in the same namespace. */
  otherLabs?: ReadonlyMap<string, OtherLabsClaims>;
  /**
   * Per node, the fingerprint of each of the lab's nftables rules as the kernel read it back after
   * the last apply: a rule edited by hand keeps its comment but not its fingerprint.
   */
  nftFingerprints?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * Nodes whose unmarked namespace is proven the lab's own: a run made it (the root namespace's id
   * for it is the one the run recorded) and stopped before writing the mark.
   */
  madeByLab?: ReadonlySet<string>;
}

/** What one node's comparison needs of the whole: both states, the options, and where changes go. */
export interface DiffContext {
  desired: LabState;
  actual: LabState;
  options: DiffOptions;
  emit: (change: NewChange) => void;
  conflict: (conflict: Conflict) => void;
}

function nodeFacts(options: DiffOptions, node: string): NodeFacts {
  return {
    sysctlOriginals: options.sysctlOriginals?.get(node) ?? {},
    interfaceSysctls: options.interfaceSysctls?.get(node) ?? {},
    sysctlsHeldByOthers: options.otherLabs?.get(node)?.sysctls ?? new Map(),
    nftFingerprints: options.nftFingerprints?.get(node) ?? {},
  };
}

/** Everything inside one node's namespace, compared; `current` is what the lab may change there. */
export function diffContents(ctx: DiffContext, want: NodeState, current: NodeState, present: ReadonlySet<string> = new Set(current.links.keys())): void {
  const node = {
    lab: ctx.desired.lab,
    desired: ctx.desired,
    actual: ctx.actual,
    want,
    current,
    present,
    links: linkFate(ctx.desired, ctx.actual, want, current),
    facts: nodeFacts(ctx.options, want.node),
    emit: ctx.emit,
  };
  for (const resource of NODE_RESOURCES) resource.diff(node);
}

/**
 * One change per veth pair and per deleted pair of ends: the first node (in name order) to ask
 * for it keeps it; deleting one end deletes the ends it is joined to.
 */
function once(changes: readonly Change[]): Change[] {
  const ids = new Set<string>();
  const deletedEnds = new Set<string>();
  const kept: Change[] = [];
  for (const c of changes) {
    if (c.kind === 'veth') {
      if (ids.has(c.id)) continue;
      ids.add(c.id);
    }
    if (c.kind === 'link') {
      const self = formatEndpoint({ node: c.node, ifname: c.name });
      if (deletedEnds.has(self)) continue;
      deletedEnds.add(self);
      for (const end of c.peerEnds ?? []) deletedEnds.add(formatEndpoint({ node: end.node, ifname: end.name }));
    }
    kept.push(c);
  }
  return kept;
}

export function diff(desired: LabState, actual: LabState, options: DiffOptions = {}): Plan {
  const changes: Change[] = [];
  const conflicts: Conflict[] = [];
  const ctx: DiffContext = {
    desired,
    actual,
    options,
    emit: (change) => changes.push({ ...change, id: changeId(change) } as Change),
    conflict: (c) => conflicts.push(c),
  };
  const nodeNames = [...new Set([...desired.nodes.keys(), ...actual.nodes.keys()])].sort();
  for (const name of nodeNames) {
    const want = desired.nodes.get(name);
    const have = actual.nodes.get(name);
    if (ownsWholeNamespace((want ?? have)!.kind)) diffOwnedNode(ctx, name, want, have);
    else diffPartialNode(ctx, name, want, have);
  }
  return { lab: desired.lab, changes: once(changes).sort(compareChanges), conflicts };
}
