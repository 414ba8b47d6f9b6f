// Live namespaces → a lab file that describes them, for `netlab export`. Pure: fed the state the
// engine's reader returns. Node names are the namespace names. What the format cannot say (an
// interface that is neither a veth, a bridge nor of a kind netlab makes, a veth whose peer is not exported, a route
// through something left out) is left out and named in a YAML comment.
import { describeRoute } from '../resources/route.js';
import { ruleArgs } from '../resources/rule.js';
import { impairSpecOf } from '../model/impair.js';
import { comment, flowList, flowMap, yamlString, type FlowMap } from './yaml-text.js';
import { EXPORTED_SYSCTLS, type NamespaceSnapshot } from '../kernel/export-read.js';
import { familyOf, isLinkLocal6, subnetContains } from '../model/ip.js';
import { MAIN_TABLE } from '../model/layout.js';
import { bridgePortName, IFNAME_PATTERN, LAB_NAME_PATTERN, MAX_IFNAME_BYTES, NODE_NAME_PATTERN } from '../model/names.js';
import { defaultMetric, neighborKey, routeKey, sortedKeys, type LinkState, type Nexthop, type NodeState, type RouteState } from '../model/types.js';
import { MASTER_KINDS, wantedSettings, type VirtualLink } from '../model/virtual.js';

/** The MTU the kernel gives a veth or a bridge: not written out. */
const DEFAULT_MTU = 1500;

export const DEFAULT_EXPORT_NAME = 'exported';

export interface ExportOptions {
  /** The lab's name; default: the lab that marked every namespace, else "exported". */
  name?: string;
  /** When the state was read, for the header. */
  exportedAt: Date;
  /** How it was read, for the header, e.g. "netlab export a b". */
  command?: string;
  /** The machine, for the header. */
  host?: string;
}

interface End {
  node: string;
  name: string;
}

interface Pair {
  ends: [End, End];
}

/** Where each exported veth end leads: its peer among the exported ends, or why not. */
type PeerOf = { peer: End } | { outside: string };

function endKey(e: End): string {
  return `${e.node}:${e.name}`;
}

/**
 * A veth names its peer by ifindex in a namespace its own namespace knows by id; the ids come
 * with names from `ip netns list-id`. Both ends must point at each other (ifindexes repeat across
 * namespaces, so one direction proves nothing).
 */
function findPeer(snapshots: Map<string, NamespaceSnapshot>, node: string, link: LinkState): PeerOf {
  const kp = link.kernelPeer;
  const self = snapshots.get(node)!;
  if (!kp) return { outside: 'the kernel did not say where its peer is' };
  if (kp.peerNetnsId === undefined) {
    const peer = kp.peerName ? self.state.links.get(kp.peerName) : undefined;
    if (peer?.type === 'veth' && peer.kernelPeer?.peerName === link.name) return { peer: { node, name: peer.name } };
    return { outside: 'its peer was not found in the same namespace' };
  }
  const peerNs = self.nsids.get(kp.peerNetnsId);
  if (peerNs === undefined) return { outside: `its peer is in a namespace with no name under /run/netns (netns id ${kp.peerNetnsId} here), such as the root namespace` };
  const other = snapshots.get(peerNs);
  if (!other) return { outside: `its peer is in namespace ${peerNs}, which is not exported` };
  for (const candidate of other.state.links.values()) {
    const ck = candidate.kernelPeer;
    if (candidate.type !== 'veth' || !ck || ck.ifindex !== kp.peerIfindex || ck.peerIfindex !== kp.ifindex) continue;
    if (ck.peerNetnsId === undefined || other.nsids.get(ck.peerNetnsId) !== node) continue;
    return { peer: { node: peerNs, name: candidate.name } };
  }
  return { outside: `its peer (ifindex ${kp.peerIfindex ?? '?'}) was not found in namespace ${peerNs}` };
}

// ── one node

interface NodeOut {
  lines: string[];
}

/** resolv.conf → the dns key; lines it cannot say are reported. */
export function parseResolvConf(text: string): { dns: { nameservers: string[]; search: string[]; options: string[] }; skipped: string[] } {
  const dns = { nameservers: [] as string[], search: [] as string[], options: [] as string[] };
  const skipped: string[] = [];
  let domain: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values.length === 1) {
      try {
        familyOf(values[0]!);
        dns.nameservers.push(values[0]!);
      } catch {
        skipped.push(raw.trim());
      }
    } else if (key === 'search') dns.search = values;
    else if (key === 'domain') domain = values;
    else if (key === 'options') dns.options.push(...values);
    else skipped.push(raw.trim());
  }
  // `domain` is the older, one-name form of `search`; the last of the two wins in libc.
  if (dns.search.length === 0) dns.search = domain;
  return { dns, skipped };
}

interface Exported {
  /** Kept veth ends and bridges, by name. */
  kept: Set<string>;
  /** veth ends written in links as their bridge (NODE:BRIDGE), by name → bridge. */
  bridgeEnds: Map<string, string>;
  /** veth ends whose pair carries the MTU (long-form link). */
  linkMtu: Map<string, number>;
  leftOut: string[];
}

function renderNode(state: NodeState, ex: Exported): NodeOut {
  const lines: string[] = [];
  const indent = '    ';
  const notes = [...ex.leftOut];
  const has = (name: string) => ex.kept.has(name);

  const sysctls = Object.entries(EXPORTED_SYSCTLS)
    .map(([key, dflt]) => [key, state.sysctls.get(key), dflt] as const)
    .filter(([, value, dflt]) => value !== undefined && value !== dflt);
  if (sysctls.length > 0) {
    lines.push(`${indent}sysctls:`);
    for (const [key, value] of sysctls) lines.push(`${indent}  ${key}: ${/^\d+$/.test(value!) ? value : yamlString(value!)}`);
  }

  const bridges = sortedKeys(state.links).filter((n) => has(n) && state.links.get(n)!.type === 'bridge');
  if (bridges.length > 0) {
    lines.push(`${indent}bridges:`);
    for (const name of bridges) {
      const b = state.links.get(name)!;
      const entries: FlowMap = [];
      if (b.addresses.length) entries.push(['addresses', b.addresses]);
      if (b.stp) entries.push(['stp', true]);
      if (b.mtu !== undefined && b.mtu !== DEFAULT_MTU) entries.push(['mtu', b.mtu]);
      if (!b.up) notes.push(`bridge ${name} is down; netlab brings every bridge up`);
      lines.push(`${indent}  ${yamlString(name)}: ${flowMap(entries)}`);
    }
  }

  const interfaces: string[] = [];
  for (const name of sortedKeys(state.links)) {
    const link = state.links.get(name)!;
    if (!has(name) || (link.type !== 'veth' && link.type !== 'virtual')) continue;
    const entries: FlowMap = link.virtual ? virtualEntries(link.virtual) : [];
    if (link.addresses.length) entries.push(['addresses', link.addresses]);
    if (link.mtu !== undefined && link.mtu !== kernelMtu(state, link) && ex.linkMtu.get(name) !== link.mtu) entries.push(['mtu', link.mtu]);
    if (link.master && !ex.bridgeEnds.has(name)) {
      const master = state.links.get(link.master);
      if (has(link.master) && (master?.type === 'bridge' || (MASTER_KINDS as readonly string[]).includes(master?.virtual?.kind ?? ''))) entries.push(['master', link.master]);
      else notes.push(`${name}: master ${link.master}, which is not an exported bridge, bond or vrf`);
    }
    if (!link.up) entries.push(['up', false]);
    const impair = exportedImpair(state, name);
    if (impair) entries.push(['impair', { map: impair }]);
    else if (state.qdiscs.has(name)) notes.push(`${name}: root qdisc ${state.qdiscs.get(name)!.kind}, which impair: cannot say`);
    if (entries.length > 0) interfaces.push(`${indent}  ${yamlString(name)}: ${flowMap(entries)}`);
  }
  if (interfaces.length > 0) lines.push(`${indent}interfaces:`, ...interfaces);

  // Routes the file can hold: through what is exported, via a gateway the node can reach.
  const keptAddresses = [...state.links.values()].filter((l) => has(l.name)).flatMap((l) => l.addresses.map((cidr) => ({ dev: l.name, cidr })));
  const routes: string[] = [];
  const byKey = [...state.routes.values()].sort((a, b) => routeKey(a).localeCompare(routeKey(b)));
  for (const route of byKey) {
    const why = routeProblem(route, keptAddresses, has);
    if (why) {
      notes.push(`route ${describeRoute(route)}: ${why}`);
      continue;
    }
    const entries: FlowMap = [];
    // A default route without a gateway is IPv4 unless written ::/0.
    entries.push(['to', route.to === 'default' && route.family === 6 && !route.via ? '::/0' : route.to]);
    if (route.via) entries.push(['via', route.via]);
    if (route.dev && needsDev(route, keptAddresses)) entries.push(['dev', route.dev]);
    if (route.metric !== defaultMetric(route.family)) entries.push(['metric', route.metric]);
    if (route.table !== undefined) entries.push(['table', route.table]);
    if (route.type) entries.push(['type', route.type]);
    if (route.onlink) entries.push(['onlink', true]);
    if (route.src) entries.push(['src', route.src]);
    routes.push(`${indent}  - ${route.nexthops ? withNexthops(entries, route.nexthops) : flowMap(entries)}`);
  }
  if (routes.length > 0) lines.push(`${indent}routes:`, ...routes);

  // Policy rules, but those naming an interface that is left out.
  const rules: string[] = [];
  for (const rule of [...state.rules.values()].sort((a, b) => a.priority - b.priority)) {
    const dev = [rule.iif, rule.oif].find((d) => d !== undefined && d !== 'lo' && !has(d));
    if (dev) {
      notes.push(`rule ${ruleArgs(rule)}: it names ${dev}, which is left out`);
      continue;
    }
    const entries: FlowMap = [['priority', rule.priority]];
    if (rule.from) entries.push(['from', rule.from]);
    if (rule.to) entries.push(['to', rule.to]);
    if (rule.iif) entries.push(['iif', rule.iif]);
    if (rule.oif) entries.push(['oif', rule.oif]);
    if (rule.fwmark !== undefined) entries.push(['fwmark', rule.fwmask !== undefined ? `${rule.fwmark}/${rule.fwmask}` : rule.fwmark]);
    if (rule.action) entries.push(['action', rule.action]);
    else entries.push(['table', rule.table === MAIN_TABLE ? 'main' : rule.table!]);
    rules.push(`${indent}  - ${flowMap(entries)}`);
  }
  if (rules.length > 0) lines.push(`${indent}rules:`, ...rules);

  // Permanent neighbour entries on what is exported.
  const neighbors = [...state.neighbors.values()].filter((n) => has(n.dev)).sort((a, b) => neighborKey(a).localeCompare(neighborKey(b)));
  const neighborLines = neighbors.map((n) => `${indent}  - ${flowMap([['dev', n.dev], ['address', n.address], ['mac', n.mac]])}`);
  if (neighborLines.length > 0) lines.push(`${indent}neighbors:`, ...neighborLines);

  if (state.resolvConf !== undefined) {
    const { dns, skipped } = parseResolvConf(state.resolvConf);
    for (const line of skipped) notes.push(`resolv.conf line ${JSON.stringify(line)}: the dns key has no place for it`);
    const entries: string[] = [];
    if (dns.nameservers.length) entries.push(`${indent}  nameservers: ${flowList(dns.nameservers)}`);
    if (dns.search.length) entries.push(`${indent}  search: ${flowList(dns.search)}`);
    if (dns.options.length) entries.push(`${indent}  options: ${flowList(dns.options)}`);
    if (entries.length > 0) lines.push(`${indent}dns:`, ...entries);
    else notes.push('resolv.conf has no nameserver, search or options line');
  }
  return { lines: [...notes.map((n) => comment(indent, `left out: ${n}`)), ...lines] };
}

/** A multipath route's map: its nexthops are maps in a list, which a FlowMap value cannot hold. */
function withNexthops(entries: FlowMap, hops: readonly Nexthop[]): string {
  const list = hops.map((h) => flowMap([['via', h.via], ...(h.dev ? ([['dev', h.dev]] as FlowMap) : []), ['weight', h.weight]]));
  return `${flowMap(entries).slice(0, -1)}, nexthops: [${list.join(', ')}]}`;
}

/** A live tbf or netem as impair: writes it (a tbf's burst and latency are netlab's own choice again). */
function exportedImpair(state: NodeState, dev: string): FlowMap | undefined {
  const q = state.qdiscs.get(dev);
  if (!q || (q.kind !== 'tbf' && q.kind !== 'netem') || !q.impair || Object.keys(q.impair).length === 0) return undefined;
  return Object.entries(impairSpecOf(q.impair)).map(([k, v]) => [k, String(v)]);
}

/** The MTU the kernel gives a new interface: a veth's 1500; a macvlan or vlan its parent's; a tunnel less its header. */
function kernelMtu(state: NodeState, link: LinkState): number {
  const v = link.virtual;
  if (!v) return DEFAULT_MTU;
  const parentMtu = (v.parent && state.links.get(v.parent.name)?.mtu) || DEFAULT_MTU;
  const v6 = String(v.settings.remote ?? v.settings.group ?? v.settings.local ?? '').includes(':');
  const header: Partial<Record<string, number>> = { vxlan: v6 ? 70 : 50, gre: 24, ipip: 20 };
  return parentMtu - (header[v.kind] ?? 0);
}

/** A virtual interface the file can hold: its parent in the same namespace, exported too (the order of reading does not matter: a parent is a veth or another kind). */
function virtualProblem(state: NodeState, link: LinkState): string | undefined {
  const v = link.virtual;
  if (!v) return 'its settings could not be read';
  // Its peers are public keys whose private halves only their own labs hold: no file can say them.
  if (v.kind === 'wireguard') return 'its keys and peers are not exported (write its peers: by hand)';
  if (v.parentElsewhere) return 'made from an interface of another namespace, which export does not trace yet';
  if (v.parent && !state.links.has(v.parent.name)) return `its parent ${v.parent.name} is not in the namespace`;
  return undefined;
}

/** kind, parent and the settings that differ from what netlab fills in by itself. */
function virtualEntries(v: VirtualLink): FlowMap {
  const entries: FlowMap = [['kind', v.kind]];
  if (v.parent) entries.push(['parent', v.parent.name]);
  const defaults = wantedSettings({ kind: v.kind });
  for (const [key, value] of Object.entries(v.settings)) if (defaults[key] !== value) entries.push([key, value]);
  return entries;
}

function routeProblem(route: RouteState, addresses: Array<{ dev: string; cidr: string }>, has: (name: string) => boolean): string | undefined {
  if (route.dev && !has(route.dev)) return `it goes out of ${route.dev}, which is left out`;
  const hopOut = route.nexthops?.find((h) => h.dev !== undefined && !has(h.dev));
  if (hopOut) return `a path goes out of ${hopOut.dev}, which is left out`;
  if (route.nexthops) return route.nexthops.every((h) => h.dev || addresses.some((a) => subnetContains(a.cidr, h.via))) ? undefined : 'a gateway is on no exported subnet of this namespace';
  if (route.type) return undefined;
  if (!route.via && !route.dev) return 'it has neither a gateway nor an interface';
  if (!route.via) return undefined;
  if (route.onlink) return route.dev ? undefined : 'an onlink gateway needs an interface';
  if (isLinkLocal6(route.via)) return route.dev ? undefined : 'a link-local gateway needs an interface';
  if (addresses.some((a) => a.cidr.split('/')[0] === route.via)) return 'its gateway is an address of this namespace';
  if (!addresses.some((a) => subnetContains(a.cidr, route.via!))) return `its gateway ${route.via} is on no exported subnet of this namespace`;
  return undefined;
}

/** dev is written only when the gateway alone does not say it: none, link-local, or ambiguous. */
function needsDev(route: RouteState, addresses: Array<{ dev: string; cidr: string }>): boolean {
  if (!route.via || isLinkLocal6(route.via)) return true;
  const devs = new Set(addresses.filter((a) => subnetContains(a.cidr, route.via!)).map((a) => a.dev));
  return devs.size !== 1 || !devs.has(route.dev!);
}

// ── the whole lab

function defaultName(snapshots: readonly NamespaceSnapshot[]): string {
  const owners = new Set(snapshots.map((s) => s.state.owner));
  const [owner] = owners;
  return owners.size === 1 && owner !== undefined && LAB_NAME_PATTERN.test(owner) ? owner : DEFAULT_EXPORT_NAME;
}

/** Whether a veth end can be written as its bridge: its name is the one netlab would give it, and it has nothing of its own. */
function plainPort(link: LinkState, far: LinkState): boolean {
  return link.addresses.length === 0 && link.up && (link.mtu === undefined || link.mtu === DEFAULT_MTU || link.mtu === far.mtu);
}

export function exportLab(snapshots: readonly NamespaceSnapshot[], options: ExportOptions): string {
  const byName = new Map(snapshots.map((s) => [s.netns, s]));
  const nodes = [...byName.keys()].sort();
  const leftOut = new Map(nodes.map((n) => [n, [] as string[]]));
  const kept = new Map(nodes.map((n) => [n, new Set<string>()]));
  const linkOf = (e: End) => byName.get(e.node)!.state.links.get(e.name)!;

  // Which links are exported, and the veth pairs among them.
  const pairs = new Map<string, Pair>();
  for (const node of nodes) {
    const state = byName.get(node)!.state;
    for (const name of sortedKeys(state.links)) {
      const link = state.links.get(name)!;
      if (!IFNAME_PATTERN.test(name) || Buffer.byteLength(name) > MAX_IFNAME_BYTES) {
        leftOut.get(node)!.push(`${name}: a name the lab format does not accept`);
        continue;
      }
      if (link.type === 'bridge') {
        kept.get(node)!.add(name);
        continue;
      }
      if (link.type === 'virtual') {
        const why = virtualProblem(state, link);
        if (why) leftOut.get(node)!.push(`${link.virtual?.kind ?? 'interface'} ${name}: ${why}`);
        else kept.get(node)!.add(name);
        continue;
      }
      if (link.type !== 'veth') {
        const what = link.addresses.length ? ` (addresses ${link.addresses.join(', ')})` : '';
        leftOut.get(node)!.push(`${name}${what}: neither a veth nor a bridge`);
        continue;
      }
      const found = findPeer(byName, node, link);
      if ('outside' in found) {
        const what = link.addresses.length ? ` (addresses ${link.addresses.join(', ')})` : '';
        leftOut.get(node)!.push(`veth ${name}${what}: ${found.outside}`);
        continue;
      }
      if (!IFNAME_PATTERN.test(found.peer.name) || Buffer.byteLength(found.peer.name) > MAX_IFNAME_BYTES) {
        leftOut.get(node)!.push(`veth ${name}: its peer ${endKey(found.peer)} has a name the lab format does not accept`);
        continue;
      }
      kept.get(node)!.add(name);
      const ends = [{ node, name }, found.peer].sort((a, b) => endKey(a).localeCompare(endKey(b))) as [End, End];
      pairs.set(ends.map(endKey).join('='), { ends });
    }
  }

  // How each pair is written: an end named as netlab names a bridge's port is written as the bridge.
  const bridgeEnds = new Map(nodes.map((n) => [n, new Map<string, string>()]));
  const linkMtu = new Map(nodes.map((n) => [n, new Map<string, number>()]));
  const written: Array<{ text: string; ends: [string, string]; mtu?: number }> = [];
  for (const { ends } of [...pairs.values()].sort((a, b) => endKey(a.ends[0]).localeCompare(endKey(b.ends[0])))) {
    const [a, b] = ends;
    const [la, lb] = [linkOf(a), linkOf(b)];
    const bridgeOf = (e: End, l: LinkState, far: LinkState): string | undefined =>
      l.master && kept.get(e.node)!.has(l.master) && linkOf({ node: e.node, name: l.master }).type === 'bridge' && plainPort(l, far) ? l.master : undefined;
    const [ba, bb] = [bridgeOf(a, la, lb), bridgeOf(b, lb, la)];
    const as = (e: End, bridge: string | undefined) => `${e.node}:${bridge ?? e.name}`;
    // Try both ends as bridges, then one, then none: the first whose names netlab would give.
    const candidates: Array<[string | undefined, string | undefined]> = [
      [ba, bb],
      [ba, undefined],
      [undefined, bb],
    ];
    let choice: [string | undefined, string | undefined] = [undefined, undefined];
    for (const [xa, xb] of candidates) {
      const okA = xa === undefined || a.name === bridgePortName({ node: b.node, ifname: xb ?? b.name });
      const okB = xb === undefined || b.name === bridgePortName({ node: a.node, ifname: xa ?? a.name });
      if ((xa !== undefined || xb !== undefined) && okA && okB) {
        choice = [xa, xb];
        break;
      }
    }
    if (choice[0]) bridgeEnds.get(a.node)!.set(a.name, choice[0]);
    if (choice[1]) bridgeEnds.get(b.node)!.set(b.name, choice[1]);
    const mtu = la.mtu !== undefined && la.mtu === lb.mtu && la.mtu !== DEFAULT_MTU ? la.mtu : undefined;
    if (mtu !== undefined) {
      linkMtu.get(a.node)!.set(a.name, mtu);
      linkMtu.get(b.node)!.set(b.name, mtu);
    }
    const endTexts = [as(a, choice[0]), as(b, choice[1])] as [string, string];
    // A bridge end reads best second: [c0:eth0, host:br0].
    if (choice[0] && !choice[1]) endTexts.reverse();
    written.push({ text: endTexts[0], ends: endTexts, mtu });
  }

  const name = options.name ?? defaultName(snapshots);
  const from = nodes.join(', ');
  const out = [
    `# Exported by ${options.command ?? 'netlab export'} at ${options.exportedAt.toISOString()} from the live network namespaces ${from}${options.host ? ` on ${options.host}` : ''}.`,
    '# Read with ip -d -j (links, addresses, main-table routes, permanent neighbours), sysctl and /etc/netns/<namespace>/resolv.conf;',
    '# node names are the namespace names. Not exported: MAC addresses (the kernel picks new ones), link-local',
    '# IPv6 addresses and the routes the kernel derives from addresses, which it makes again by itself.',
    `name: ${yamlString(name)}`,
    `description: ${yamlString(`Exported from the network namespaces ${from}`)}`,
    'nodes:',
  ];
  for (const node of nodes) {
    const ex: Exported = { kept: kept.get(node)!, bridgeEnds: bridgeEnds.get(node)!, linkMtu: linkMtu.get(node)!, leftOut: leftOut.get(node)! };
    const body = renderNode(byName.get(node)!.state, ex);
    const hasKeys = body.lines.some((l) => !l.trimStart().startsWith('#'));
    out.push(`  ${yamlString(node)}:${hasKeys ? '' : ' {}'}`, ...body.lines);
  }
  if (written.length > 0) {
    out.push('links:');
    for (const link of written.sort((x, y) => x.text.localeCompare(y.text))) {
      const ends = flowList(link.ends);
      out.push(link.mtu !== undefined ? `  - {endpoints: ${ends}, mtu: ${link.mtu}}` : `  - ${ends}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** A namespace name that cannot be a node name; export refuses it by name. */
export function badNodeName(netns: string): boolean {
  return !NODE_NAME_PATTERN.test(netns);
}
