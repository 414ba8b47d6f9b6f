// What every kind of kernel object netlab manages provides, in one module of its own: how its
// changes are named, where they run, the commands they become, how a person reads them, what they
// wait for, and (for objects inside a node) how wanted and actual compare. Pure: no IO here or in
// any resource module, so the planner can depend on them.
import type { FeatureNeed } from '../model/features.js';
import type { LabState, NodeState } from '../model/types.js';
import type { WireguardState } from '../model/wireguard.js';
import type { Change } from './change.js';

/** What a change does, apart from what it changes (the kind). */
export type Action = 'create' | 'update' | 'delete';

export interface ChangeBase {
  /** Unique and stable: the graph's node id and the sort key of the plan. */
  id: string;
  action: Action;
  node: string;
  /** null: the root namespace. */
  netns: string | null;
  reason: string;
}

export type Tool = 'ip' | 'tc' | 'bridge' | 'sysctl' | 'file' | 'nft' | 'mount' | 'proc' | 'wg';

/** Where a change's commands run: which tool, and in which namespace (null: the root namespace). */
export interface Scope {
  tool: Tool;
  netns: string | null;
}

export function scopeKey(scope: Scope): string {
  return `${scope.tool}@${scope.netns ?? ''}`;
}

/** Every value in a command was validated, so lines are rendered, never escaped or quoted. */
export type Command =
  | { tool: 'ip'; line: string }
  | { tool: 'tc'; line: string }
  | { tool: 'bridge'; line: string }
  | { tool: 'sysctl'; assignment: string }
  | { tool: 'nft'; script: string }
  | { tool: 'mount'; op: 'publish'; source: string; netns: string; node: string }
  | { tool: 'mount'; op: 'unpublish'; netns: string }
  | { tool: 'proc'; op: 'start'; node: string; key: string; argv: string[]; command: string }
  | { tool: 'proc'; op: 'stop'; node: string; key: string }
  | { tool: 'proc'; op: 'evict'; netns: string }
  | { tool: 'file'; op: 'write'; path: string; content: string }
  | { tool: 'file'; op: 'remove'; path: string }
  /** `wg set`: the interface's whole wanted state, its keys named by where they are (model/wireguard.ts). */
  | { tool: 'wg'; wireguard: WireguardState; remove: string[] };

/** An interface of a node. */
export interface LinkEnd {
  node: string;
  name: string;
}

export function endKey(end: LinkEnd): string {
  return `${end.node}:${end.name}`;
}

/** The whole plan's changes, indexed once, for resources to find what theirs wait for. */
export interface ChangeIndex {
  /** The change that makes (or publishes) the node's namespace. */
  namespaceMade(node: string): string | undefined;
  /** The change that makes node:name (a veth pair makes both its ends). */
  linkMade(node: string, name: string): string | undefined;
  /** The change that deletes node:name (a veth end deleted takes its peer ends too). */
  linkDeleted(node: string, name: string): string | undefined;
  /** The node's other changes that `pick` selects. */
  sameNode(change: ChangeBase, pick: (other: ChangeOfAnyKind) => boolean): string[];
  /** Every change of the plan that `pick` selects. */
  all(pick: (other: ChangeOfAnyKind) => boolean): string[];
  /** Veth pairs made from another node's side with an end in this node. */
  vethsInto(node: string): string[];
}

/** A change as the index sees it: the base with its kind (resources narrow it by kind). */
export type ChangeOfAnyKind = ChangeBase & { kind: string; [field: string]: unknown };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A change before it has its id. */
export type Unnamed<C extends ChangeBase> = DistributiveOmit<C, 'id'> & { id?: string };

export interface Resource<C extends ChangeBase & { kind: string }> {
  kind: C['kind'];
  /** What a batch of them is called in a script's step header. */
  plural: string;
  id(change: Unnamed<C>): string;
  scope(change: C): Scope;
  commands(change: C): Command[];
  /** One line naming what the change is about (plan, progress, JSON). */
  summary(change: C): string;
  /** What the change waits for, by id; the namespace it runs in is added for every kind but the namespace's own. */
  dependsOn?(change: C, index: ChangeIndex): Array<string | undefined>;
  /** The links it makes, by end: changes on those links wait for it. */
  makes?(change: C): LinkEnd[];
  /** The links it deletes, by end: a link made again in their place waits for it. */
  deletes?(change: C): LinkEnd[];
  /** It makes or publishes the node's namespace: everything inside waits for it. */
  opensNamespace?(change: C): boolean;
  /** It reaches into another namespace too (a veth's far end, a namespace's veths). */
  reachesAcross?: boolean;
  /** A node's ip batch does it after the sysctls that must come before links go up (dad.ts). */
  waitsForBeforeUp?: boolean;
  /** What it reads with each node's `ip -d -j -batch`, and how it takes the answer in. */
  ipRead?: IpRead;
  /** What it reads with `bridge -j -batch`, in the nodes that need it only (NodeToRead.bridgeReads). */
  bridgeRead?: BridgeRead;
  /**
   * Where the lab does not own the namespace (host, attach): which actual objects are the lab's,
   * given the keys its record lists as made there, and which wanted ones stand on another's.
   */
  labsOwn?(want: NodeState, have: NodeState, recorded: ReadonlySet<string>): { view: Partial<NodeState>; conflicts: string[] };
  /** The record key of what the change makes there, listed before the run so that no stopped run hides it. */
  recordKey?(change: C): string | undefined;
  /** The record keys of what a node holds once a run is verified. */
  recordKeys?(want: NodeState): string[];
  /** Lines shown under it in the plan (an nftables table's rules). */
  details?(change: C): Array<{ action: Action; text: string; reason: string }>;
  /** The kernel features the node's wanted objects of this kind need (netem, 802.1Q, ...). */
  needs?(want: NodeState): FeatureNeed[];
}

/** One line of the read batch every node's state comes from, and the parse of its JSON answer. */
export interface IpRead {
  line: string;
  parse(answer: unknown[], node: NodeState): void;
}

/**
 * One line of a node's `bridge -j -batch` read. A process more per node, so it is read only where
 * the file wants such objects (`wanted`) or the record says the lab made some (its `table` listed).
 */
export interface BridgeRead {
  /** Its name in the record's list of a node's bridge reads. */
  table: string;
  line: string;
  wanted(want: NodeState): boolean;
  parse(answer: unknown[], node: NodeState): void;
}

/** How a node's links fare in the plan, decided before any resource inside the node is compared. */
export interface LinkFate {
  /** Declared links deleted and made again, or made new. */
  recreated: ReadonlySet<string>;
  /** Links whose routes go: made again, or not in the file (and the lab's). */
  gone: ReadonlySet<string>;
  /** Addresses taken off kept links: the kernel drops routes whose gateway they made reachable. */
  deletedAddresses: readonly string[];
}

/** What the lab's records say of a node, beyond what the kernel shows. */
export interface NodeFacts {
  /** Outside the lab's own namespaces: each sysctl's value from before the lab changed it. */
  sysctlOriginals: Readonly<Record<string, string>>;
  /** Per sysctl whose write resets every interface's own key: those keys' values from before the lab. */
  interfaceSysctls: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Sysctls other labs hold in the same namespace, by identity (other-labs.ts). */
  sysctlsHeldByOthers: ReadonlyMap<string, unknown>;
  /** The fingerprint of each of the lab's nftables rules as read back after the last apply. */
  nftFingerprints: Readonly<Record<string, string>>;
}

/** One node's objects, wanted and actual, as every resource's differ sees them. */
export interface NodeDiff {
  lab: string;
  desired: LabState;
  actual: LabState;
  want: NodeState;
  /** What the lab may change there: all of a namespace it owns, its own objects elsewhere. */
  current: NodeState;
  /** Interfaces in the namespace now. */
  present: ReadonlySet<string>;
  links: LinkFate;
  facts: NodeFacts;
  emit(change: Unnamed<Change>): void;
}

/** A resource of the objects inside a node: compares them there, wanted against actual. */
export interface NodeResource<C extends ChangeBase & { kind: string }> extends Resource<C> {
  diff(node: NodeDiff): void;
}
