// The lab file as the user writes it, after the JSON Schema has accepted it. Pure types: the
// loader (config/) fills them, the model reads them. Field names follow
// ../../schemas/topology.schema.json exactly; docs/format.md describes them to the user.
import type { ImpairSpec } from './impair.js';
import type { WireguardPeerSpec } from './wireguard.js';

export type { ImpairSpec, WireguardPeerSpec };
import type { VirtualKind } from './virtual.js';

export type NodeKind = 'netns' | 'host' | 'attach';

/** What a node is when the file does not say. */
export const DEFAULT_NODE_KIND: NodeKind = 'netns';

export function kindOf(node: { kind?: NodeKind }): NodeKind {
  return node.kind ?? DEFAULT_NODE_KIND;
}

/** Keys and indexes from the document root to a value: ['nodes', 'c0', 'routes', 1, 'via']. */
export type Path = ReadonlyArray<string | number>;

export interface LabSpec {
  name: string;
  description?: string;
  prefix?: string;
  /** Link-local IPv6 on the interfaces the lab makes; default: whether the file has any IPv6 address. */
  ipv6?: boolean;
  nodes: Record<string, NodeSpec>;
  links?: LinkSpec[];
  tests?: TestSpec[];
}

export interface NodeSpec {
  kind?: NodeKind;
  pid?: number;
  path?: string;
  /** kind attach: a container's name or id; its pid is asked of docker, podman or nerdctl at plan time. */
  container?: string;
  sysctls?: Record<string, string | number | boolean>;
  bridges?: Record<string, BridgeSpec>;
  interfaces?: Record<string, InterfaceSpec>;
  routes?: RouteSpec[];
  /** Names for routing tables: name → number. */
  tables?: Record<string, number>;
  rules?: RuleSpec[];
  neighbors?: NeighborSpec[];
  fdb?: FdbSpec[];
  dns?: DnsSpec;
  nat?: NatRuleSpec[];
  firewall?: FirewallSpec;
  run?: string[];
}

/** A permanent ARP / NDP entry: `address` is at `mac` on interface `dev`. */
export interface NeighborSpec {
  dev: string;
  address: string;
  mac: string;
}

/**
 * A static forwarding entry: frames to `mac` leave by `dev`, a bridge port (the bridge's table),
 * or, with `dst`, a VXLAN device sends them to that remote (the device's own table).
 */
export interface FdbSpec {
  dev: string;
  mac: string;
  dst?: string;
  /** On a bridge with `vlans: true`: the VLAN the entry is for. */
  vlan?: number;
}

export interface BridgeSpec {
  addresses?: string[];
  stp?: boolean;
  mtu?: number;
  /** VLAN filtering (an 802.1Q bridge): ports carry the VLANs of their access/trunk settings. */
  vlans?: boolean;
}

export interface InterfaceSpec extends PortSpec {
  /** Made inside the node, not by a link (model/virtual.ts); its kind's keys below. */
  kind?: VirtualKind;
  /** macvlan, vlan, vxlan: the interface it rides on; a macvlan's may be NODE:IFNAME of another node. */
  parent?: string;
  /** macvlan: bridge | private | vepa | passthru; bond: its bonding mode. */
  mode?: string;
  /** vxlan: the VNI; vlan: the VLAN id. */
  id?: number;
  local?: string;
  remote?: string;
  /** vxlan: a multicast group instead of one remote. */
  group?: string;
  dstport?: number;
  /** vrf: its routing table. */
  table?: number;
  /** bond: how often (ms) each member's link is checked; 0 never. */
  miimon?: number;
  /** wireguard: the UDP port it listens on. */
  listen?: number;
  /** wireguard: a file with its private key, relative to the lab file; else netlab makes one. */
  key?: string;
  /** wireguard: the interfaces of the lab it talks to. */
  peers?: WireguardPeerSpec[];
  addresses?: string[];
  mtu?: number;
  mac?: string;
  master?: string;
  up?: boolean;
  /** The interface's egress through tc: netem delay, loss, ...; a rate alone is a tbf. */
  impair?: ImpairSpec;
}

/** A bridge port's flags, on an interface whose master is a bridge or in a link's `port:`. */
export interface PortSpec {
  hairpin?: boolean;
  isolated?: boolean;
  learning?: boolean;
  flood?: boolean;
  /** On a bridge with `vlans: true`: an untagged member of this VLAN (its pvid). */
  access?: number;
  /** On a bridge with `vlans: true`: tagged member of these VLANs. */
  trunk?: number[];
  /** With trunk: the VLAN its untagged frames belong to (pvid, untagged). */
  native?: number;
}

export interface RouteSpec {
  to: string;
  via?: string;
  dev?: string;
  metric?: number;
  /** A number, or a name from the node's tables. */
  table?: number | string;
  type?: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';
  nexthops?: NexthopSpec[];
  onlink?: boolean;
  src?: string;
}

/** An `ip rule`: its priority is its identity. */
export interface RuleSpec {
  priority: number;
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
  /** A number, or "MARK/MASK" (each decimal or 0x hex). */
  fwmark?: number | string;
  /** A number, main, or a name from the node's tables. */
  table?: number | string;
  action?: 'lookup' | 'blackhole' | 'unreachable' | 'prohibit';
}

export interface NexthopSpec {
  via: string;
  dev?: string;
  weight?: number;
}

export interface DnsSpec {
  nameservers?: string[];
  search?: string[];
  options?: string[];
}

export interface NatRuleSpec {
  type: 'masquerade' | 'snat' | 'dnat';
  source?: string;
  destination?: string;
  in?: string;
  out?: string;
  proto?: 'tcp' | 'udp';
  port?: number;
  to?: string;
  local?: boolean;
}

export interface FirewallRuleSpec {
  in?: string;
  out?: string;
  source?: string;
  destination?: string;
  proto?: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
  port?: number;
  state?: Array<'established' | 'related' | 'new' | 'invalid'>;
  /** proto icmp or icmpv6: the ICMP type, a name nft knows or a number. */
  icmp?: string | number;
  /** With icmp: the ICMP code, "frag-needed" or a number. */
  code?: string | number;
  /** proto tcp: flags that must be set, or clear with a leading "!": [syn, "!ack"]. */
  flags?: string[];
  /** clamp-mss sets the MSS of the SYNs that match to what the route's MTU allows, and goes on. */
  action: 'accept' | 'drop' | 'reject' | 'clamp-mss';
}

export interface FirewallChainSpec {
  policy?: 'accept' | 'drop';
  rules?: FirewallRuleSpec[];
}

export interface FirewallSpec {
  input?: FirewallChainSpec;
  forward?: FirewallChainSpec;
  output?: FirewallChainSpec;
}

/** Short form `[a:eth0, b:eth0]` or long form with link options. */
/** port: the flags of the port the link makes on a bridge (its bridge end's). */
/** impair: both ends' egress, as an interface's impair: (which overrides it for its end). */
export type LinkSpec = [string, string] | { endpoints: [string, string]; mtu?: number; port?: PortSpec; impair?: ImpairSpec };

export interface TestSpec {
  from: string;
  ping?: string;
  connect?: string;
  serve?: string;
  proto?: 'tcp' | 'udp';
  expect?: 'success' | 'fail';
  /** ping: payload bytes (ping -s). */
  size?: number;
  /** ping: don't fragment (ping -M do). */
  df?: boolean;
  /** ping: this many echoes, measured together. */
  count?: number;
  /** ping: bounds on the share of echoes lost, "5%". */
  loss?: BoundsSpec;
  /** ping: bounds on the median round trip, "150ms". */
  rtt?: BoundsSpec;
  /** Any test: tried again until it passes or this much time has passed, "10s". */
  within?: string;
  /** What `ip route get` chooses for this address (or node) in the from node. */
  route?: string;
  via?: string;
  dev?: string;
  source?: string;
  mark?: number;
  /** The nodes a packet to this address (or node) crosses from the from node, found by TTL-limited pings. */
  trace?: string;
  /** trace: the nodes (or addresses) in order, the last the target's. */
  path?: string[];
  /** NODE:PORT where netlab runs an iperf3 server; the from node measures TCP throughput to it. */
  throughput?: string;
  /** throughput: the least and the most rate that pass, "8mbit". */
  min?: string;
  max?: string;
}

export interface BoundsSpec {
  min?: string;
  max?: string;
}
