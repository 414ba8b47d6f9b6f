// What `ip -d -j` prints, turned into the model. Pure: fed by captured output in tests.
import { canonicalCidr } from '../model/ip.js';
import { labFromMark } from '../model/names.js';
import { DEFAULT_NODE_KIND } from '../model/spec.js';
import { routeKey, type KernelPeer, type LinkState, type LinkType, type NodeKind, type NodeState } from '../model/types.js';
import { readSettings, type VirtualKind, type VirtualLink } from '../model/virtual.js';
import { IP_READS } from '../resources/registry.js';
import { isLabRoute, parseRoute, type IpRouteJson } from '../resources/route.js';

export type { IpRouteJson };

/** The fields of `ip -d -j addr show` that netlab reads. */
export interface IpLinkJson {
  ifindex: number;
  ifname: string;
  operstate?: string;
  flags?: string[];
  mtu?: number;
  /** The kind of its root qdisc (noqueue, tbf, netem, ...). */
  qdisc?: string;
  address?: string;
  master?: string;
  ifalias?: string;
  /** The peer's name, when the peer is in the same namespace. */
  link?: string | null;
  /** The peer's ifindex in the namespace link_netnsid names. */
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { stp_state?: number; vlan_filtering?: number; link?: string; [setting: string]: unknown }; info_slave_kind?: string; info_slave_data?: { hairpin?: boolean; isolated?: boolean; learning?: boolean; flood?: boolean } };
  /** eui64, none, stable_secret or random; absent when the link has no IPv6. */
  inet6_addr_gen_mode?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean; dynamic?: boolean }>;
}

function linkType(kind: string | undefined): LinkType {
  if (kind === 'veth' || kind === 'bridge') return kind;
  return readSettings(kind, undefined) !== undefined ? 'virtual' : 'other';
}

/** A macvlan or vlan names its parent in `link` (or, across namespaces, by link_netnsid); a vxlan in its info_data. */
function virtualOf(json: IpLinkJson, node: string): VirtualLink {
  const info = json.linkinfo!;
  const kind = info.info_kind as VirtualKind;
  const link: VirtualLink = { kind, settings: readSettings(kind, info.info_data)! };
  const parent = kind === 'vxlan' ? info.info_data?.link : json.link;
  if (json.link_netnsid !== undefined && kind !== 'vxlan') link.parentElsewhere = true;
  else if (typeof parent === 'string') link.parent = { node, name: parent };
  return link;
}

/** Addresses the kernel makes by itself are not the lab's: link-local IPv6, and lo's. */
function isKernelMadeAddress(family: string, local: string, scope: string | undefined): boolean {
  return family === 'inet6' && scope === 'link' && local.toLowerCase().startsWith('fe80:');
}

/** An address with a lifetime was learned (SLAAC from a router advertisement, DHCP): netlab sets none. */
function isLearnedAddress(address: { dynamic?: boolean }): boolean {
  return address.dynamic === true;
}

function parseLink(json: IpLinkJson, node: string): LinkState {
  const type = linkType(json.linkinfo?.info_kind);
  const addresses = (json.addr_info ?? [])
    .filter((a) => !isKernelMadeAddress(a.family, a.local, a.scope) && !isLearnedAddress(a))
    .map((a) => canonicalCidr(`${a.local}/${a.prefixlen}`))
    .sort();
  const link: LinkState = {
    name: json.ifname,
    type,
    mtu: json.mtu,
    mac: json.address?.toLowerCase(),
    master: json.master ?? null,
    up: (json.flags ?? []).includes('UP'),
    addresses,
  };
  if (type === 'bridge') link.stp = (json.linkinfo?.info_data?.stp_state ?? 0) !== 0;
  if (type === 'bridge' && (json.linkinfo?.info_data?.vlan_filtering ?? 0) !== 0) link.vlanFiltering = true;
  if (type === 'veth') link.kernelPeer = kernelPeer(json);
  if (type === 'virtual') link.virtual = virtualOf(json, node);
  const port = json.linkinfo?.info_slave_kind === 'bridge' ? json.linkinfo.info_slave_data : undefined;
  if (port) link.port = { hairpin: port.hairpin ?? false, isolated: port.isolated ?? false, learning: port.learning ?? true, flood: port.flood ?? true };
  const owner = labFromMark(json.ifalias);
  if (owner) link.owner = owner;
  link.carrier = json.operstate === 'UP';
  if (json.inet6_addr_gen_mode !== undefined) link.linkLocal = json.inet6_addr_gen_mode !== 'none';
  link.linkLocalUsable = (json.addr_info ?? []).some((a) => isKernelMadeAddress(a.family, a.local, a.scope) && !a.tentative && !a.dadfailed);
  return link;
}

function kernelPeer(json: IpLinkJson): KernelPeer {
  const sameNamespace = json.link_netnsid === undefined;
  return {
    ifindex: json.ifindex,
    peerIfindex: json.link_index,
    peerNetnsId: json.link_netnsid,
    peerName: sameNamespace && typeof json.link === 'string' ? json.link : undefined,
  };
}

/**
 * The tunnel modules' own fallback devices, which the kernel puts in every namespace once the
 * module is loaded (net.core.fb_tunnels_only_for_init_net): no lab's to keep or delete.
 */
const FALLBACK_TUNNELS: ReadonlyMap<string, string> = new Map([
  ['gre0', 'gre'],
  ['gretap0', 'gretap'],
  ['erspan0', 'erspan'],
  ['tunl0', 'ipip'],
  ['sit0', 'sit'],
  ['ip6tnl0', 'ip6tnl'],
  ['ip6gre0', 'ip6gre'],
  ['ip_vti0', 'vti'],
  ['ip6_vti0', 'vti6'],
]);

function isFallbackTunnel(json: IpLinkJson): boolean {
  return FALLBACK_TUNNELS.get(json.ifname) === json.linkinfo?.info_kind;
}

export interface NodeReadOutput {
  links: IpLinkJson[];
  routes4: IpRouteJson[];
  routes6: IpRouteJson[];
  /** The answers to the resources' own read lines (IP_READS), in order; none when not read. */
  resourceAnswers?: unknown[][];
  /** `sysctl` output lines "key = value" for the keys asked. */
  sysctlText?: string;
  resolvConf?: string;
}

export function parseNode(node: string, netns: string | null, out: NodeReadOutput, kind: NodeKind = DEFAULT_NODE_KIND): NodeState {
  const state: NodeState = {
    node,
    kind,
    netns,
    exists: true,
    loUp: false,
    links: new Map(),
    routes: new Map(),
    rules: new Map(),
    neighbors: new Map(),
    qdiscs: new Map(),
    wireguard: new Map(),
    fdb: new Map(),
    sysctls: parseSysctl(out.sysctlText ?? ''),
    runs: new Map(),
    resolvConf: out.resolvConf,
  };
  for (const json of out.links) {
    if (json.ifname === 'lo') {
      state.loUp = (json.flags ?? []).includes('UP');
      state.owner = labFromMark(json.ifalias);
      continue;
    }
    if (isFallbackTunnel(json)) continue;
    const link = parseLink(json, node);
    state.links.set(link.name, link);
  }
  for (const [family, routes] of [[4, out.routes4], [6, out.routes6]] as const) {
    for (const json of routes.filter(isLabRoute)) {
      const route = parseRoute(json, family);
      state.routes.set(routeKey(route), route);
    }
  }
  (out.resourceAnswers ?? []).forEach((answer, i) => IP_READS[i]!.parse(answer, state));
  return state;
}

/** `sysctl k1 k2` prints "k1 = v1"; multi-value sysctls are tab-separated, kept so. */
export function parseSysctl(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(' = ');
    if (at > 0) values.set(line.slice(0, at).trim(), line.slice(at + 3).trim().replace(/\s+/g, '\t'));
  }
  return values;
}

/** `ip -j netns list-id`: netns id → the name under /run/netns, for the ids that have one. */
export function parseNamespaceIds(stdout: string): Map<number, string> {
  const text = stdout.trim();
  const ids = (text === '' ? [] : JSON.parse(text)) as Array<{ nsid: number; name?: string }>;
  return new Map(ids.filter((i) => typeof i.name === 'string').map((i) => [i.nsid, i.name!]));
}
