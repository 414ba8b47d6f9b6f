// What `ip -d -j` prints, turned into the model. Pure: fed by captured output in tests.
import { canonicalCidr, canonicalDestination, canonicalIp } from '../model/ip.js';
import { labFromMark } from '../model/names.js';
import { routeKey, type KernelPeer, type LinkState, type LinkType, type NodeKind, type NodeState, type PeerRef, type RouteState } from '../model/types.js';

/** The fields of `ip -d -j addr show` that netlab reads. */
export interface IpLinkJson {
  ifindex: number;
  ifname: string;
  operstate?: string;
  flags?: string[];
  mtu?: number;
  address?: string;
  master?: string;
  ifalias?: string;
  /** The peer's name, when the peer is in the same namespace. */
  link?: string | null;
  /** The peer's ifindex in the namespace link_netnsid names. */
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { stp_state?: number } };
  /** eui64, none, stable_secret or random; absent when the link has no IPv6. */
  inet6_addr_gen_mode?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string; tentative?: boolean; dadfailed?: boolean }>;
}

export interface IpRouteJson {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  table?: string;
  scope?: string;
}

function linkType(kind: string | undefined): LinkType {
  return kind === 'veth' || kind === 'bridge' ? kind : 'other';
}

/** Addresses the kernel makes by itself are not the lab's: link-local IPv6, and lo's. */
function isKernelMadeAddress(family: string, local: string, scope: string | undefined): boolean {
  return family === 'inet6' && scope === 'link' && local.toLowerCase().startsWith('fe80:');
}

function parseLink(json: IpLinkJson): LinkState {
  const type = linkType(json.linkinfo?.info_kind);
  const addresses = (json.addr_info ?? [])
    .filter((a) => !isKernelMadeAddress(a.family, a.local, a.scope))
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
  if (type === 'veth') link.kernelPeer = kernelPeer(json);
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
 * Routes the lab may own: the main table, minus what the kernel derives from addresses and links
 * (protocol kernel) and IPv6 multicast/link-local housekeeping.
 */
export function isLabRoute(route: IpRouteJson): boolean {
  if (route.table !== undefined && route.table !== 'main') return false;
  if (route.protocol === 'kernel') return false;
  if (route.type !== undefined && route.type !== 'unicast') return false;
  return true;
}

/** `ip -j route` prints a host route's destination bare ("10.9.9.9"), without its /32 or /128. */
function withHostLength(dst: string, family: 4 | 6): string {
  return dst === 'default' || dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

export function parseRoute(route: IpRouteJson, family: 4 | 6): RouteState {
  return {
    family,
    protocol: route.protocol ?? 'boot',
    to: canonicalDestination(withHostLength(route.dst, family)),
    via: route.gateway ? canonicalIp(route.gateway) : undefined,
    dev: route.dev,
    metric: route.metric ?? 0,
  };
}

export interface NodeReadOutput {
  links: IpLinkJson[];
  routes4: IpRouteJson[];
  routes6: IpRouteJson[];
  /** `sysctl` output lines "key = value" for the keys asked. */
  sysctlText?: string;
  resolvConf?: string;
}

export function parseNode(node: string, netns: string | null, out: NodeReadOutput, kind: NodeKind = 'netns'): NodeState {
  const state: NodeState = {
    node,
    kind,
    netns,
    exists: true,
    loUp: false,
    links: new Map(),
    routes: new Map(),
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
    const link = parseLink(json);
    state.links.set(link.name, link);
  }
  for (const [family, routes] of [[4, out.routes4], [6, out.routes6]] as const) {
    for (const json of routes.filter(isLabRoute)) {
      const route = parseRoute(json, family);
      state.routes.set(routeKey(route), route);
    }
  }
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

/**
 * Whether the veth `name` in `node` is joined to the veth `peer`: both ends must point at each
 * other's ifindex (across namespaces) or name each other (in one namespace). Ifindexes repeat
 * across namespaces (every namespace's first veth is 2), so where the read found them ambiguous
 * (ambiguousVethNodes) the netns id must also name the other end's namespace. Where they are not,
 * each end is the other's only match among the lab's namespaces, and no lookup is paid.
 */
export function isVethPairedWith(nodes: ReadonlyMap<string, NodeState>, node: string, name: string, peer: PeerRef): boolean {
  const [nearNode, farNode] = [nodes.get(node), nodes.get(peer.node)];
  const near = nearNode?.links.get(name);
  const far = farNode?.links.get(peer.name);
  if (near?.type !== 'veth' || far?.type !== 'veth' || !near.kernelPeer || !far.kernelPeer) return false;
  if (node === peer.node) return near.kernelPeer.peerName === peer.name && far.kernelPeer.peerName === name;
  const a = near.kernelPeer;
  const b = far.kernelPeer;
  return (
    a.peerNetnsId !== undefined &&
    b.peerNetnsId !== undefined &&
    a.peerIfindex === b.ifindex &&
    b.peerIfindex === a.ifindex &&
    namesNamespaceOf(nearNode!, a.peerNetnsId, farNode!) &&
    namesNamespaceOf(farNode!, b.peerNetnsId, nearNode!)
  );
}

/** Whether `from`'s netns id names `to`'s namespace; true when its ids were not looked up. No name: the root namespace. */
function namesNamespaceOf(from: NodeState, nsid: number, to: NodeState): boolean {
  if (!from.peerNamespaces) return true;
  return (from.peerNamespaces.get(nsid) ?? null) === to.netns;
}

function signature(ifindex: number | undefined, peerIfindex: number | undefined): string {
  return `${ifindex}>${peerIfindex}`;
}

/**
 * The nodes with a veth that ifindexes alone would join to ends in more than one other node (as
 * [a,b],[c,d] made again as [a,c],[b,d] looks the same): their netns ids must be looked up.
 */
export function ambiguousVethNodes(states: readonly NodeState[]): Set<string> {
  const crossing = (s: NodeState) => [...s.links.values()].flatMap((l) => (l.type === 'veth' && l.kernelPeer?.peerNetnsId !== undefined ? [l.kernelPeer] : []));
  const nodesBySignature = new Map<string, string[]>();
  for (const s of states) {
    for (const kp of crossing(s)) {
      const key = signature(kp.ifindex, kp.peerIfindex);
      nodesBySignature.set(key, [...(nodesBySignature.get(key) ?? []), s.node]);
    }
  }
  const ambiguous = new Set<string>();
  for (const s of states) {
    for (const kp of crossing(s)) {
      const matches = (nodesBySignature.get(signature(kp.peerIfindex, kp.ifindex)) ?? []).filter((n) => n !== s.node);
      if (matches.length > 1) ambiguous.add(s.node);
    }
  }
  return ambiguous;
}

/** `ip -j netns list-id`: netns id → the name under /run/netns, for the ids that have one. */
export function parseNamespaceIds(stdout: string): Map<number, string> {
  const text = stdout.trim();
  const ids = (text === '' ? [] : JSON.parse(text)) as Array<{ nsid: number; name?: string }>;
  return new Map(ids.filter((i) => typeof i.name === 'string').map((i) => [i.nsid, i.name!]));
}
