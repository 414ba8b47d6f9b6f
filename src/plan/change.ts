// A Change is one thing apply will do, with the reason a person reads in the plan.
import type { NftTable, NodeKind, RouteState } from '../model/types.js';

export type Action = 'create' | 'update' | 'delete';

interface Base {
  /** Unique and stable: the graph's node id and the sort key of the plan. */
  id: string;
  action: Action;
  node: string;
  /** null: the root namespace. */
  netns: string | null;
  reason: string;
}

export interface LinkSettings {
  /** The lab's mark on a link it made in a namespace it does not own. */
  alias?: string;
  mtu?: number;
  mac?: string;
  master?: string | null;
  up?: boolean;
  stp?: boolean;
  /** Only ever false: off with `addrgenmode none` before the link is up. On again needs a new link. */
  linkLocal?: boolean;
}

export type Change =
  /** nsid: given to a new namespace in the same `ip` process that makes it; the run's proof it made it. */
  | (Base & { kind: 'netns'; stale?: boolean; nsid?: number })
  | (Base & { kind: 'publish'; source: string })
  | (Base & { kind: 'loopback'; lab: string })
  | (Base & { kind: 'veth'; name: string; peer: { node: string; netns: string | null; name: string } })
  | (Base & { kind: 'bridge'; name: string })
  /** peerEnds: the veth ends elsewhere that go with it (a link made again there waits for this). */
  | (Base & { kind: 'link-delete'; name: string; peerEnds?: Array<{ node: string; name: string }> })
  | (Base & { kind: 'settings'; name: string; set: LinkSettings })
  | (Base & { kind: 'address'; dev: string; cidr: string })
  | (Base & { kind: 'route'; route: RouteState })
  | (Base & {
      kind: 'sysctl';
      key: string;
      value: string;
      /** Written before the node's new links come up (see plan/dad.ts): the node's ip changes wait for it. */
      beforeUp?: boolean;
    })
  | (Base & { kind: 'dns'; content?: string })
  | (Base & { kind: 'nftables'; lab: string; table?: NftTable; details: NftDetail[] })
  | (Base & { kind: 'run'; key: string; command: string; nodeKind: NodeKind })
  /** inode: of the namespace proven the lab's when planned; a namespace there since is left alone. */
  | (Base & { kind: 'evict'; pids: number[]; inode?: string });

/** One line under an nftables change in the plan: the table is rewritten whole, atomically. */
export interface NftDetail {
  action: Action;
  text: string;
  reason: string;
}

export type ChangeKind = Change['kind'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A change before it has its id. */
export type NewChange = DistributiveOmit<Change, 'id'> & { id?: string };

/** A namespace the lab would use that something else owns. Apply refuses while any exists. */
export interface Conflict {
  node: string;
  netns: string | null;
  reason: string;
}

export interface Plan {
  lab: string;
  changes: Change[];
  conflicts: Conflict[];
}

/** The order kinds are listed in, per node: the order a person would build them in. */
export const KIND_ORDER: readonly ChangeKind[] = [
  'evict',
  'netns',
  'publish',
  'loopback',
  'link-delete',
  'bridge',
  'veth',
  'settings',
  'address',
  'route',
  'sysctl',
  'nftables',
  'dns',
  'run',
];

export function compareChanges(a: Change, b: Change): number {
  return (
    a.node.localeCompare(b.node) ||
    KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
    a.id.localeCompare(b.id)
  );
}
