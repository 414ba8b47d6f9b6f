// The state of a lab, desired (from the file) or actual (read from the kernel), in one shape so
// that diff compares like with like. Keys of every map are sorted when iterated for output.
import type { QdiscState } from './impair.js';
import type { Family } from './ip.js';
import { DEFAULT_NODE_KIND, type NodeKind } from './spec.js';
import type { VirtualLink } from './virtual.js';
import type { WireguardState } from './wireguard.js';

export type { Family, NodeKind };

export interface LabState {
  lab: string;
  /** Keyed by node name. */
  nodes: Map<string, NodeState>;
}

/** How much of a node's namespace the lab owns: all of one it created, only its own objects elsewhere. */
export function ownsWholeNamespace(kind: NodeKind): boolean {
  return kind === 'netns';
}

export interface NodeState {
  node: string;
  kind: NodeKind;
  /** The namespace's name under /run/netns; null for the machine's root namespace (kind host). */
  netns: string | null;
  /** kind attach: the namespace file to publish at /run/netns/<netns> (/proc/PID/ns/net or a path). */
  source?: string;
  /** kind attach, actual: /run/netns/<netns> is a bind mount of that very namespace. */
  published?: boolean;
  /** kind attach, actual: what is at /run/netns/<netns> is the lab's own (its mount, or the empty file under it). */
  publishedByLab?: boolean;
  /** kind attach, actual: something else is at /run/netns/<netns>: a file that is no namespace, or another namespace. */
  publishBlocked?: 'file' | 'namespace';
  /** Actual only: the lab named by the namespace's ownership mark (lo's alias), if any. */
  owner?: string;
  /** Actual only: the namespace file exists. Desired: always true. */
  exists: boolean;
  /**
   * Actual, kind netns: /run/netns/<netns> is there but is no namespace — what `ip netns add` or
   * `ip netns del` leaves when killed half way. It is removed before the namespace is made again.
   */
  stale?: boolean;
  loUp: boolean;
  /** Keyed by interface name; lo is not in here. */
  links: Map<string, LinkState>;
  /** Keyed by routeKey(). */
  routes: Map<string, RouteState>;
  /** Policy routing rules (IPv4), keyed by ruleKey(). */
  rules: Map<string, RuleState>;
  /** Permanent ARP / NDP entries, keyed by neighborKey(). Actual: only permanent ones (what the kernel learns is not the lab's). */
  neighbors: Map<string, NeighborState>;
  /**
   * Root qdiscs by interface (`impair:`). Desired: the file's tbf or netem. Actual: every root
   * qdisc but the kernel's defaults (noqueue, pfifo_fast, fq_codel, mq, ...).
   */
  qdiscs: Map<string, QdiscState>;
  /**
   * WireGuard interfaces' keys and peers, by interface. Desired: the file's. Actual: `wg show`'s,
   * read only where the file has one and `ip -j` shows one.
   */
  wireguard: Map<string, WireguardState>;
  /**
   * Static forwarding entries, keyed by fdbKey(). Actual: only what the lab could have written
   * (static bridge entries, permanent VXLAN remotes), and only read where the file or the record
   * has some (NodeToRead.bridgeReads); what the kernel learns or keeps for itself is not read.
   */
  fdb: Map<string, FdbState>;
  /** Keyed by sysctl name; desired holds what the file sets, actual what the kernel says for those keys. */
  sysctls: Map<string, string>;
  /** The content of /etc/netns/<netns>/resolv.conf; undefined when there is none. */
  resolvConf?: string;
  /** Actual: /etc/netns/<netns> is there, empty, without a resolv.conf: a removal stopped half way left it. */
  etcDirLeft?: boolean;
  /** The lab's nftables table in this namespace; undefined when there is none. */
  nft?: NftTable;
  /** `run:` commands by key. Desired: the command. Actual: what was started and whether it lives. */
  runs: Map<string, RunEntry>;
  /** Actual, kind netns: the processes living in the namespace (destroy ends them). */
  pids?: number[];
  /** Actual, kind netns: the namespace's inode, which names it as long as it lives. */
  inode?: string;
  /**
   * Actual: the netns ids this namespace gave others → their names under /run/netns (`ip netns
   * list-id`). Looked up only where ifindexes alone could join one of its veths to several ends.
   */
  peerNamespaces?: Map<number, string>;
}

export interface RunEntry {
  command: string;
  /** Actual only. */
  alive?: boolean;
  log?: string;
  /** Actual only: the process started for it. */
  pid?: number;
}

export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** One `inet` table per lab per node, named nftTableName(lab), holding all its NAT and filter rules. */
export interface NftTable {
  chains: NftChain[];
  /**
   * Actual only: the lab named by the table's comment (netlab's mark, "netlab:<lab>"). Outside the
   * lab's own namespaces a table of the lab's name without it was made by someone else.
   */
  owner?: string;
}

export interface NftChain {
  name: string;
  type: 'nat' | 'filter';
  hook: NftHook;
  priority: number;
  policy: 'accept' | 'drop';
  rules: NftRule[];
}

export interface NftRule {
  /** The rule's comment, "netlab:<hash of chain and text>": how a rule is found again. */
  id: string;
  /** Desired: the rule as nft syntax (without the comment). Actual: undefined. */
  text?: string;
  /** Actual: the kernel's handle, to name a rule that is not the lab's. */
  handle?: number;
  /** Actual: a hash of the rule's expressions as the kernel reports them; changes when edited by hand. */
  fingerprint?: string;
}

/**
 * 'existing': an interface of a host or attach node that no link creates; the lab only adds addresses to it.
 * 'virtual': made inside the node by `kind:` (macvlan, vxlan, ...; model/virtual.ts).
 */
export type LinkType = 'veth' | 'bridge' | 'existing' | 'virtual' | 'other';

export interface PeerRef {
  node: string;
  name: string;
}

export interface LinkState {
  name: string;
  type: LinkType;
  /** veth only: the other end. Actual: undefined when the other end is outside the lab. */
  peer?: PeerRef;
  /** Desired: undefined when the file leaves it to the kernel. */
  mtu?: number;
  mac?: string;
  /** The bridge this link is a port of; null for none. */
  master: string | null;
  up: boolean;
  /** bridge only. */
  stp?: boolean;
  /** virtual only: its kind, parent and settings. Actual: the parent only when it is in the same namespace. */
  virtual?: VirtualLink;
  /** bridge only: VLAN filtering on. Desired: undefined for off. */
  vlanFiltering?: boolean;
  /**
   * A port of a VLAN-filtering bridge: its VLANs. Desired: set for every port of such a bridge
   * (the kernel's default is VLAN 1, pvid, untagged); actual: as `bridge -j vlan show` says, when read.
   */
  vlans?: PortVlans;
  /** A port of a bridge: its flags. Desired: all four for a port the lab makes; actual: as read. */
  port?: PortFlags;
  /** Canonical CIDRs ("172.18.0.10/16", "2001:db8::1/64"), sorted. */
  addresses: string[];
  /** Actual veth only: how the kernel says this end points at its peer. */
  kernelPeer?: KernelPeer;
  /** Actual: the lab named by the link's mark (its alias), if any. */
  owner?: string;
  /** Actual: the kernel passes traffic on it (operstate UP), not only that it was set up. */
  carrier?: boolean;
  /**
   * Actual: it has a link-local IPv6 address past duplicate detection, the address a router
   * solicits its neighbours from when it forwards a packet.
   */
  linkLocalUsable?: boolean;
  /**
   * Whether the kernel gives it an IPv6 link-local address (addrgenmode other than none). Desired:
   * set on the links the lab makes; actual: undefined when the link has no IPv6 at all.
   */
  linkLocal?: boolean;
}

/** A bridge port's flags (`ip link set dev X type bridge_slave ...`). */
export interface PortFlags {
  /** Frames may go back out of the port they came in on (a host reaching itself through NAT). */
  hairpin: boolean;
  /** Isolated ports reach only ports that are not isolated. */
  isolated: boolean;
  learning: boolean;
  /** Unknown unicast is flooded to the port. */
  flood: boolean;
}

/** A port's VLAN memberships: vid → whether it is the pvid and leaves untagged. */
export type PortVlans = Map<number, VlanMembership>;

export interface VlanMembership {
  pvid: boolean;
  untagged: boolean;
}

/** The VLANs the kernel gives a new port of a VLAN-filtering bridge (default_pvid 1). */
export function defaultPortVlans(): PortVlans {
  return new Map([[1, { pvid: true, untagged: true }]]);
}

/** What the kernel gives a new bridge port. */
export const DEFAULT_PORT_FLAGS: Readonly<PortFlags> = { hairpin: false, isolated: false, learning: true, flood: true };

/**
 * A veth shows its own ifindex, its peer's ifindex and, across namespaces, a netns id that only
 * its own namespace can decode; or, in the same namespace, the peer's name.
 */
export interface KernelPeer {
  ifindex: number;
  peerIfindex?: number;
  peerNetnsId?: number;
  peerName?: string;
}

/** What a route does with a packet besides forwarding it: drop it quietly, refuse it, or go on to the next rule (throw). */
export type RouteType = 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

/** One path of a multipath route. */
export interface Nexthop {
  via: string;
  dev?: string;
  /** 1..256, the kernel's default 1. */
  weight: number;
}

export interface RouteState {
  family: Family;
  /** Actual: the route's protocol as ip prints it ("kernel", "boot", "77", ...). */
  protocol?: string;
  /** "default" or a canonical CIDR. */
  to: string;
  via?: string;
  dev?: string;
  metric: number;
  /** The routing table by number; undefined: main (254). */
  table?: number;
  /** undefined: unicast. */
  type?: RouteType;
  /** A multipath route's paths (then no via or dev of its own), in the kernel's order. */
  nexthops?: Nexthop[];
  /** The gateway is taken as on the link, whatever the addresses say (Calico's 169.254.1.1). */
  onlink?: boolean;
  /** The source address the node gives packets it sends by this route. */
  src?: string;
}

/** A policy routing rule: which packets (by source, destination, interfaces, mark) look up which table, or are refused. */
export interface RuleState {
  priority: number;
  /** Canonical CIDRs; undefined: any. */
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
  fwmark?: number;
  /** undefined: the whole mark (0xffffffff). */
  fwmask?: number;
  /** The table looked up; undefined when the rule refuses the packet (action). */
  table?: number;
  action?: 'blackhole' | 'unreachable' | 'prohibit';
  /** Actual: the rule's protocol as ip prints it; the lab's rules carry ROUTE_PROTOCOL. */
  protocol?: string;
}

export function ruleKey(rule: Pick<RuleState, 'priority'>): string {
  return `inet priority ${rule.priority}`;
}

/** A static neighbour entry: this address is reached at this MAC on this interface, without asking. */
export interface NeighborState {
  dev: string;
  /** Canonical IP. */
  address: string;
  /** Lower case. */
  mac: string;
  /** Actual: the entry's protocol as ip prints it; the lab's entries carry ROUTE_PROTOCOL. */
  protocol?: string;
}

export function neighborKey(n: Pick<NeighborState, 'dev' | 'address'>): string {
  return `${n.dev} ${n.address}`;
}

/**
 * A static forwarding entry. In a bridge's table (`master`) a MAC (per VLAN) is behind one port;
 * in a VXLAN device's own table (`dst`) a MAC may have several remotes (all zeros: flood to each).
 */
export interface FdbState {
  dev: string;
  /** Lower case. */
  mac: string;
  /** The bridge whose table holds it; undefined: the device's own table (VXLAN, with dst). */
  master?: string;
  vlan?: number;
  /** Canonical IP of the VXLAN remote. */
  dst?: string;
}

export function fdbKey(e: FdbState): string {
  return e.master !== undefined ? `${e.master} ${e.mac}${e.vlan !== undefined ? ` vlan ${e.vlan}` : ''}` : `${e.dev} ${e.mac} dst ${e.dst ?? ''}`;
}

/** A route's identity, as the kernel's: table, destination and metric (a main-table route's key names no table). */
export function routeKey(r: Pick<RouteState, 'family' | 'to' | 'metric' | 'table'>): string {
  const table = r.table === undefined ? '' : `table ${r.table} `;
  return `${r.family === 6 ? 'inet6' : 'inet'} ${table}${r.to} metric ${r.metric}`;
}

/** The metric the kernel gives a route added without one. */
export function defaultMetric(family: Family): number {
  return family === 6 ? 1024 : 0;
}

export function emptyNode(node: string, netns: string | null, exists: boolean, kind: NodeKind = DEFAULT_NODE_KIND): NodeState {
  return { node, kind, netns, exists, loUp: exists, links: new Map(), routes: new Map(), rules: new Map(), neighbors: new Map(), qdiscs: new Map(), wireguard: new Map(), fdb: new Map(), sysctls: new Map(), runs: new Map() };
}

export function sortedKeys<K extends string, V>(map: Map<K, V>): K[] {
  return [...map.keys()].sort();
}
