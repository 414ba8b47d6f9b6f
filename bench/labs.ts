// The labs the bench builds, as one neutral model from which the netlab YAML, the seed-style
// script and the floor script are all rendered, so the three always build the same network.
import { stringify } from 'yaml';

export interface Iface {
  name: string;
  address: string;
}
export interface Route {
  to: string;
  via: string;
}
export interface LabNode {
  name: string;
  bridges: Iface[]; // a bridge and its address
  ifaces: Iface[]; // veth ends made by the links, with their address
  routes: Route[];
  sysctls: Record<string, number>;
  /** netlab-only keys of the node (the policy variant's tables, rules, other routes). */
  netlabOnly?: { tables: Record<string, number>; rules: unknown[]; routes: unknown[] };
}
/** One veth pair. `b` either names an interface or a bridge of its node (the star's hub). */
export interface Link {
  a: { node: string; iface: string };
  b: { node: string; iface: string } | { node: string; bridge: string };
}
export interface Lab {
  id: string; // "star-100": the key in the report
  kind: 'star' | 'chain';
  size: number;
  name: string; // netlab's lab name
  description: string;
  nodes: LabNode[];
  links: Link[];
  /** The proof that a build works: one ping between far-apart namespaces. */
  ping: { from: string; to: string };
  /** Only netlab builds it: the scripts know no rules or multipath. */
  netlabOnly?: boolean;
  /** The lab this one is a variant of, by id: the report gives the ratio of their applies. */
  variantOf?: string;
}

/** The name of a bridge port: the scripts must name it, netlab derives its own. */
export function bridgePort(link: Link): string {
  return `v${link.a.node}`;
}

/** 10.0.0.0 + n, dotted. */
function ip(base: number, n: number): string {
  const v = base + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}
const TEN = 10 << 24;

function node(name: string, part: Partial<LabNode> = {}): LabNode {
  return { name, bridges: [], ifaces: [], routes: [], sysctls: {}, ...part };
}

/** N namespaces c1..cN, each with eth0 on bridge br0 of namespace `hub`, all in 10.0.0.0/16. */
export function star(n: number): Lab {
  if (n > 65000) throw new Error('star: at most 65000 namespaces fit in 10.0.0.0/16');
  const hub = node('hub', { bridges: [{ name: 'br0', address: `${ip(TEN, 1)}/16` }] });
  const nodes = [hub];
  const links: Link[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `c${i}`;
    nodes.push(node(name, { ifaces: [{ name: 'eth0', address: `${ip(TEN, 1 + i)}/16` }], routes: [{ to: 'default', via: ip(TEN, 1) }] }));
    links.push({ a: { node: name, iface: 'eth0' }, b: { node: 'hub', bridge: 'br0' } });
  }
  return {
    id: `star-${n}`,
    kind: 'star',
    size: n,
    name: `bench-star-${n}`,
    description: `${n} namespaces on one bridge in namespace hub`,
    nodes,
    links,
    ping: { from: 'c1', to: ip(TEN, 1) },
  };
}

/**
 * N routers r1..rN in a line; link i (ri eth1 — ri+1 eth0) is the /30 10.1.0.0 + 4(i-1).
 * Every router forwards and has a route to both far-end subnets, so r1 reaches rN.
 * The two ends raise their default TTL: a ping crosses N-1 hops, more than the default 64.
 */
export function chain(n: number): Lab {
  if (n < 3 || n > 16000) throw new Error('chain: between 3 and 16000 routers');
  const net = (link: number) => (10 << 24) + (1 << 16) + 4 * (link - 1); // link 1..n-1
  const left = `${ip(net(1), 0)}/30`;
  const right = `${ip(net(n - 1), 0)}/30`;
  const nodes: LabNode[] = [];
  for (let i = 1; i <= n; i++) {
    const r = node(`r${i}`, { sysctls: { 'net.ipv4.ip_forward': 1 } });
    if (i === 1 || i === n) r.sysctls['net.ipv4.ip_default_ttl'] = 255;
    if (i > 1) r.ifaces.push({ name: 'eth0', address: `${ip(net(i - 1), 2)}/30` });
    if (i < n) r.ifaces.push({ name: 'eth1', address: `${ip(net(i), 1)}/30` });
    if (i <= n - 2) r.routes.push({ to: right, via: ip(net(i), 2) });
    if (i >= 3) r.routes.push({ to: left, via: ip(net(i - 1), 1) });
    nodes.push(r);
  }
  const links: Link[] = [];
  for (let i = 1; i < n; i++) links.push({ a: { node: `r${i}`, iface: 'eth1' }, b: { node: `r${i + 1}`, iface: 'eth0' } });
  return {
    id: `chain-${n}`,
    kind: 'chain',
    size: n,
    name: `bench-chain-${n}`,
    description: `${n} routers in a line, a /30 per link, forwarding end to end`,
    nodes,
    links,
    ping: { from: 'r1', to: ip(net(n - 1), 2) },
  };
}

/**
 * The chain again, with what policy routing adds: each router has a table of its own holding its
 * routes again, a rule that sends what it sends from its first address to that table, a multipath
 * route over both neighbours (a blackhole at the ends), so that the cost of rules, tables and
 * multipath is the difference between the two.
 */
export function chainWithPolicy(n: number): Lab {
  const base = chain(n);
  const nodes = base.nodes.map((r, i) => {
    const gateways = r.routes.map((route) => route.via);
    const spread = gateways.length === 2 ? { to: '10.250.0.0/16', nexthops: gateways.map((via, k) => ({ via, weight: k + 1 })) } : { to: '10.250.0.0/16', type: 'blackhole' };
    const own = (r.ifaces[0]?.address ?? '').split('/')[0]!;
    return {
      ...r,
      netlabOnly: {
        tables: { alt: 100 },
        rules: [{ priority: 100, from: own, table: 'alt' }, { priority: 200 + (i % 7), fwmark: i + 1, action: 'prohibit' }],
        routes: [...r.routes.map((route) => ({ ...route, table: 'alt' })), spread],
      },
    };
  });
  return { ...base, id: `${base.id}-policy`, name: `bench-chainp-${n}`, description: `${base.description}, with a table, rules and a multipath route per router`, nodes, netlabOnly: true, variantOf: base.id };
}

/** The lab as netlab reads it (FORMAT.md). */
export function toYaml(lab: Lab): string {
  const nodes: Record<string, unknown> = {};
  for (const n of lab.nodes) {
    const spec: Record<string, unknown> = {};
    if (Object.keys(n.sysctls).length) spec.sysctls = n.sysctls;
    if (n.bridges.length) spec.bridges = Object.fromEntries(n.bridges.map((b) => [b.name, { addresses: [b.address] }]));
    if (n.ifaces.length) spec.interfaces = Object.fromEntries(n.ifaces.map((i) => [i.name, { addresses: [i.address] }]));
    if (n.routes.length || n.netlabOnly) spec.routes = [...n.routes, ...(n.netlabOnly?.routes ?? [])];
    if (n.netlabOnly) Object.assign(spec, { tables: n.netlabOnly.tables, rules: n.netlabOnly.rules });
    nodes[n.name] = spec;
  }
  // One flow-style line per node and per link keeps a 1000-namespace file readable.
  const flow = (v: unknown) => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return [
    "# generated by netlab's bench (bench/labs.ts)",
    `name: ${lab.name}`,
    `description: ${flow(lab.description)}`,
    'nodes:',
    ...Object.entries(nodes).map(([name, spec]) => `  ${name}: ${flow(spec)}`),
    'links:',
    ...lab.links.map((l) => `  - ${flow([`${l.a.node}:${l.a.iface}`, `${l.b.node}:${'bridge' in l.b ? l.b.bridge : l.b.iface}`])}`),
    '',
  ].join('\n');
}
