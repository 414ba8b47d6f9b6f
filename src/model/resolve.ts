// The lab file, already validated, becomes the desired state: names derived, defaults filled.
// Links, addresses and routes come from its layout (layout.ts), the one place that resolves them.
import { createHash } from 'node:crypto';
import { canonicalCidr, canonicalIp, cidrText, isIpv6Text } from './ip.js';
import { deviceOf, isResolved, layOut, MAIN_TABLE, tableNumber, type Layout, type LinkEnd, type PlacedRoute } from './layout.js';
import { desiredNftTable } from './nft.js';
import { namespaceName, parseEndpoint } from './names.js';
import { LAB_QDISC_HANDLE, parseImpair, qdiscKindOf, type ImpairSpec } from './impair.js';
import { kindOf, type InterfaceSpec, type LabSpec, type NodeSpec, type PortSpec } from './spec.js';
import { wantedSettings, type KindSpec, type VirtualLink } from './virtual.js';
import { wantedWireguard } from './wireguard.js';
import { DEFAULT_PORT_FLAGS, defaultMetric, defaultPortVlans, emptyNode, fdbKey, neighborKey, type FdbState, type PortVlans, routeKey, ruleKey, type LabState, type LinkState, type NeighborState, type NodeState, type RouteState, type RuleState, type RunEntry } from './types.js';

/** One veth pair as the kernel will see it: both ends with their real names. */
export interface VethEnd {
  node: string;
  name: string;
  /** Set when the end was written as a bridge: the port is enslaved to it. */
  bridge?: string;
}

export interface ResolvedLink {
  ends: [VethEnd, VethEnd];
  mtu?: number;
  /** The flags of the port its bridge end makes. */
  port?: PortSpec;
  /** Both ends' egress impairment. */
  impair?: ImpairSpec;
}

function vethEnd(end: LinkEnd): VethEnd | undefined {
  const name = deviceOf(end);
  if (name === undefined) return undefined;
  return end.bridge === undefined ? { node: end.node, name } : { node: end.node, name, bridge: end.bridge };
}

/** The veth pairs of the links whose ends both resolve: every link, in a valid file. */
export function resolveLinks(spec: LabSpec, layout: Layout = layOut(spec)): ResolvedLink[] {
  const links: ResolvedLink[] = [];
  for (const { ends, mtu, index } of layout.links) {
    const [a, b] = ends.map((end) => (isResolved(end) ? vethEnd(end) : undefined));
    const written = spec.links?.[index];
    const long = written && !Array.isArray(written) ? written : undefined;
    const port = long?.port;
    const impair = long?.impair;
    if (a && b) links.push({ ends: [a, b], mtu, ...(port ? { port } : {}), ...(impair ? { impair } : {}) });
  }
  return links;
}

/** A device's addresses as canonical CIDRs, sorted. */
type AddressesOf = (node: string, section: 'interfaces' | 'bridges', device: string) => string[];

function addressesByDevice(layout: Layout): AddressesOf {
  const byDevice = new Map<string, string[]>();
  for (const placed of [...layout.addresses.values()].flat()) {
    if (!('cidr' in placed.parsed)) continue; // validation reports it
    const key = `${placed.node}\0${placed.section}\0${placed.device}`;
    byDevice.set(key, [...(byDevice.get(key) ?? []), cidrText(placed.parsed.cidr)]);
  }
  return (node, section, device) => [...(byDevice.get(`${node}\0${section}\0${device}`) ?? [])].sort();
}

/** 0.0.0.0/0 and ::/0 are "default", as the kernel says; a route with no family of its own is IPv4. */
function resolveRoute({ route, to, via, nexthops, src, table }: PlacedRoute): RouteState | undefined {
  if (to !== 'default' && !('cidr' in to)) return undefined; // validation reports it
  const destination = to === 'default' ? undefined : to.cidr;
  const family = via?.family ?? nexthops?.[0]?.family ?? destination?.ip.family ?? 4;
  const resolved: RouteState = {
    family,
    to: destination === undefined || destination.length === 0 ? 'default' : cidrText(destination),
    via: via?.text,
    dev: route.dev,
    metric: route.metric ?? defaultMetric(family),
  };
  if (table !== undefined) resolved.table = table;
  if (route.type !== undefined && route.type !== 'unicast') resolved.type = route.type;
  if (route.nexthops) resolved.nexthops = route.nexthops.map((h, i) => ({ via: nexthops?.[i]?.text ?? h.via, ...(h.dev ? { dev: h.dev } : {}), weight: h.weight ?? 1 }));
  if (route.onlink) resolved.onlink = true;
  if (src) resolved.src = src.text;
  return resolved;
}

function sysctlValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value).trim().replace(/\s+/g, '\t');
}

export function renderResolvConf(dns: NonNullable<NodeSpec['dns']>): string {
  const lines = [`# written by netlab`];
  for (const ns of dns.nameservers ?? []) lines.push(`nameserver ${canonicalIp(ns)}`);
  if (dns.search?.length) lines.push(`search ${dns.search.join(' ')}`);
  if (dns.options?.length) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function addVethEnd(node: NodeState, end: VethEnd, peer: VethEnd, mtu: number | undefined): void {
  node.links.set(end.name, {
    name: end.name,
    type: 'veth',
    peer: { node: peer.node, name: peer.name },
    mtu,
    master: end.bridge ?? null,
    up: true,
    addresses: [],
  });
}

/** An interface the node makes itself by its kind; applyNodeSpec adds what any interface has. */
function virtualLink(node: string, name: string, iface: InterfaceSpec & KindSpec): LinkState {
  const parent = iface.parent === undefined ? undefined : parseEndpoint(iface.parent) ?? { node, ifname: iface.parent };
  const virtual: VirtualLink = { kind: iface.kind, settings: wantedSettings(iface) };
  if (parent) virtual.parent = { node: parent.node, name: parent.ifname };
  return { name, type: 'virtual', virtual, master: null, up: true, addresses: [] };
}

function applyNodeSpec(state: NodeState, spec: NodeSpec, addressesOf: AddressesOf, routes: readonly PlacedRoute[]): void {
  for (const [name, bridge] of Object.entries(spec.bridges ?? {})) {
    state.links.set(name, {
      name,
      type: 'bridge',
      mtu: bridge.mtu,
      master: null,
      up: true,
      stp: bridge.stp ?? false,
      ...(bridge.vlans ? { vlanFiltering: true } : {}),
      addresses: addressesOf(state.node, 'bridges', name),
    });
  }
  for (const [name, iface] of Object.entries(spec.interfaces ?? {})) {
    if (iface.kind !== undefined && !state.links.has(name)) state.links.set(name, virtualLink(state.node, name, iface as InterfaceSpec & KindSpec));
    const link = state.links.get(name);
    if (!link) {
      // In a host or attach node: an interface that is there already; the lab adds addresses only.
      if (state.kind !== 'netns') {
        state.links.set(name, { name, type: 'existing', master: null, up: true, addresses: addressesOf(state.node, 'interfaces', name) });
      }
      continue; // in a netns node validation reports an interface no link creates
    }
    const merged: LinkState = {
      ...link,
      mtu: iface.mtu ?? link.mtu,
      mac: iface.mac?.toLowerCase(),
      master: iface.master ?? link.master,
      up: iface.up ?? true,
      addresses: addressesOf(state.node, 'interfaces', name),
    };
    state.links.set(name, merged);
  }
  for (const placed of routes) {
    const resolved = resolveRoute(placed);
    if (resolved) state.routes.set(routeKey(resolved), resolved);
  }
  for (const [name, iface] of Object.entries(spec.interfaces ?? {})) if (iface.impair && state.links.has(name)) setQdisc(state, name, iface.impair);
  state.neighbors = wantedNeighbors(spec.neighbors);
  state.fdb = wantedFdb(spec.fdb, state);
  state.rules = wantedRules(spec);
  for (const [key, value] of Object.entries(spec.sysctls ?? {})) state.sysctls.set(key, sysctlValue(value));
  if (spec.dns) state.resolvConf = renderResolvConf(spec.dns);
  state.nft = desiredNftTable(spec);
  state.runs = runEntries(spec.run ?? []);
}

/** A run command's key: a hash of its text, so that an edited command is a new one. */
export function runEntries(commands: readonly string[]): Map<string, RunEntry> {
  const runs = new Map<string, RunEntry>();
  for (const command of commands) {
    const hash = createHash('sha256').update(command).digest('hex').slice(0, 10);
    let key = hash;
    for (let n = 2; runs.has(key); n++) key = `${hash}-${n}`;
    runs.set(key, { command });
  }
  return runs;
}

/**
 * /proc/PID/ns/net or the path given: the namespace an attach node publishes. A container: node
 * has its pid once kernel/container.ts has asked for it; before that (destroy, graph, script) it
 * has no source, and the lab finds it by the name it published it under.
 */
export function attachSource(node: NodeSpec): string | undefined {
  if (node.pid !== undefined) return `/proc/${node.pid}/ns/net`;
  return node.path;
}

function nodeState(prefix: string | undefined, name: string, node: NodeSpec): NodeState {
  const kind = kindOf(node);
  const state = emptyNode(name, kind === 'host' ? null : namespaceName(prefix, name), true, kind);
  if (kind === 'attach') state.source = attachSource(node);
  return state;
}

/** Whether the file has any IPv6 address: then its interfaces keep the kernel's link-local IPv6. */
export function declaresIpv6(spec: LabSpec): boolean {
  const texts: Array<string | undefined> = [];
  for (const node of Object.values(spec.nodes)) {
    for (const b of Object.values(node.bridges ?? {})) texts.push(...(b.addresses ?? []));
    for (const i of Object.values(node.interfaces ?? {})) texts.push(...(i.addresses ?? []));
    for (const r of node.routes ?? []) texts.push(r.to, r.via, r.src, ...(r.nexthops ?? []).map((h) => h.via));
    for (const n of node.neighbors ?? []) texts.push(n.address);
    for (const n of node.nat ?? []) texts.push(n.source, n.destination, n.to);
    for (const chain of [node.firewall?.input, node.firewall?.forward, node.firewall?.output]) {
      for (const rule of chain?.rules ?? []) texts.push(rule.source, rule.destination);
    }
    texts.push(...(node.dns?.nameservers ?? []));
  }
  return texts.some(isIpv6Text);
}

export function resolveLab(spec: LabSpec, layout: Layout = layOut(spec)): LabState {
  const nodes = new Map<string, NodeState>();
  for (const [name, node] of Object.entries(spec.nodes)) nodes.set(name, nodeState(spec.prefix, name, node));
  const linkPorts = new Map<string, PortSpec>(); // node\0port → the link's port: flags
  const linkImpairs: Array<[VethEnd, ImpairSpec]> = [];
  for (const { ends, mtu, port, impair } of resolveLinks(spec, layout)) {
    const [a, b] = ends;
    addVethEnd(nodes.get(a.node)!, a, b, mtu);
    addVethEnd(nodes.get(b.node)!, b, a, mtu);
    for (const end of ends) if (end.bridge && port) linkPorts.set(`${end.node}\0${end.name}`, port);
    if (impair) for (const end of ends) linkImpairs.push([end, impair]);
  }
  // A link's impair: first, so that an interface's own impair: replaces it for its end.
  for (const [end, impair] of linkImpairs) setQdisc(nodes.get(end.node)!, end.name, impair);
  const addressesOf = addressesByDevice(layout);
  for (const [name, nodeSpec] of Object.entries(spec.nodes)) applyNodeSpec(nodes.get(name)!, nodeSpec, addressesOf, layout.routes.get(name) ?? []);
  for (const node of nodes.values()) setPortFlags(node, spec.nodes[node.node]!, linkPorts);
  for (const node of nodes.values()) setWireguard(node, spec);
  // Without link-local addresses a new port is silent: no DAD, router or MLD solicitations that a
  // bridge floods to every other port, which makes a big L2 segment quadratic in the kernel.
  const linkLocal = spec.ipv6 ?? declaresIpv6(spec);
  for (const node of nodes.values()) {
    for (const link of node.links.values()) if (link.type === 'veth' || link.type === 'bridge') link.linkLocal = linkLocal;
  }
  return { lab: spec.name, nodes };
}

/** The node's WireGuard interfaces' keys and peers; a peer's key is where that peer's own `key:` says. */
function setWireguard(node: NodeState, spec: LabSpec): void {
  const keyFileOf = (peerNode: string, peerDev: string) => spec.nodes[peerNode]?.interfaces?.[peerDev]?.key;
  for (const [dev, iface] of Object.entries(spec.nodes[node.node]!.interfaces ?? {})) {
    if (iface.kind === 'wireguard' && node.links.has(dev)) node.wireguard.set(dev, wantedWireguard(node.node, dev, iface, keyFileOf));
  }
}

/** The root qdisc an interface's `impair:` makes: tbf for a rate alone, else netem. */
function setQdisc(node: NodeState, dev: string, spec: ImpairSpec): void {
  const impair = parseImpair(spec);
  if (Object.keys(impair).length === 0) return; // validation reports it
  node.qdiscs.set(dev, { dev, kind: qdiscKindOf(impair), handle: LAB_QDISC_HANDLE, impair });
}

/** The file's `neighbors:` of one node, as the desired state holds them. */
export function wantedNeighbors(entries: NodeSpec['neighbors']): Map<string, NeighborState> {
  const wanted = new Map<string, NeighborState>();
  for (const e of entries ?? []) {
    const entry = { dev: e.dev, address: canonicalIp(e.address), mac: e.mac.toLowerCase() };
    wanted.set(neighborKey(entry), entry);
  }
  return wanted;
}

/**
 * The file's `fdb:` of one node: with dst in the device's own table (VXLAN), else in the table of
 * the bridge the device is a port of (one that is none is reported by validation).
 */
export function wantedFdb(entries: NodeSpec['fdb'], state: NodeState): Map<string, FdbState> {
  const wanted = new Map<string, FdbState>();
  for (const e of entries ?? []) {
    const mac = e.mac.toLowerCase();
    let entry: FdbState;
    if (e.dst !== undefined) entry = { dev: e.dev, mac, dst: canonicalIp(e.dst) };
    else {
      const master = state.links.get(e.dev)?.master;
      if (!master) continue;
      entry = { dev: e.dev, mac, master, ...(e.vlan !== undefined ? { vlan: e.vlan } : {}) };
    }
    wanted.set(fdbKey(entry), entry);
  }
  return wanted;
}

/** access N: untagged in N; trunk: tagged in each, and native untagged; neither: the kernel's VLAN 1. */
export function portVlans(spec: PortSpec): PortVlans {
  if (spec.access !== undefined) return new Map([[spec.access, { pvid: true, untagged: true }]]);
  if (spec.trunk === undefined && spec.native === undefined) return defaultPortVlans();
  const vlans: PortVlans = new Map((spec.trunk ?? []).map((vid) => [vid, { pvid: false, untagged: false }]));
  if (spec.native !== undefined) vlans.set(spec.native, { pvid: true, untagged: true });
  return vlans;
}

/** "0x10/0xf0" → [16, 240]; a bare number is the whole mark. */
export function parseFwmark(mark: number | string): [number, number | undefined] {
  if (typeof mark === 'number') return [mark, undefined];
  const [value, mask] = mark.split('/');
  return [Number(value), mask === undefined || Number(mask) === 0xffffffff ? undefined : Number(mask)];
}

/** The file's `rules:` of one node; `table` by number, main as 254. */
function wantedRules(spec: NodeSpec): Map<string, RuleState> {
  const wanted = new Map<string, RuleState>();
  for (const r of spec.rules ?? []) {
    const rule: RuleState = { priority: r.priority };
    if (r.from) rule.from = canonicalCidr(r.from.includes('/') ? r.from : `${r.from}/32`);
    if (r.to) rule.to = canonicalCidr(r.to.includes('/') ? r.to : `${r.to}/32`);
    if (r.iif) rule.iif = r.iif;
    if (r.oif) rule.oif = r.oif;
    if (r.fwmark !== undefined) {
      const [mark, mask] = parseFwmark(r.fwmark);
      rule.fwmark = mark;
      if (mask !== undefined) rule.fwmask = mask;
    }
    if (r.action && r.action !== 'lookup') rule.action = r.action;
    else rule.table = tableNumber(r.table, spec.tables) ?? MAIN_TABLE;
    wanted.set(ruleKey(rule), rule);
  }
  return wanted;
}

/** Every port of a bridge the lab makes gets all four flags: the file's, else the kernel's defaults, so that a flag the file drops goes back. */
function setPortFlags(node: NodeState, spec: NodeSpec, linkPorts: ReadonlyMap<string, PortSpec>): void {
  for (const link of node.links.values()) {
    if (link.master === null || link.type === 'existing' || node.links.get(link.master)?.type !== 'bridge') continue;
    const iface = spec.interfaces?.[link.name];
    // A vxlan's own `learning` is its forwarding database's, not the port's.
    const own = iface?.kind === 'vxlan' ? { ...iface, learning: undefined } : iface;
    const fromFile = { ...linkPorts.get(`${node.node}\0${link.name}`), ...own };
    const flags = { ...DEFAULT_PORT_FLAGS };
    for (const key of ['hairpin', 'isolated', 'learning', 'flood'] as const) if (fromFile[key] !== undefined) flags[key] = fromFile[key]!;
    link.port = flags;
    if (node.links.get(link.master)!.vlanFiltering) link.vlans = portVlans(fromFile);
  }
}
