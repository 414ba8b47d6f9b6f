// netlab export against a real kernel: a lab built BY HAND with plain ip commands in one sandbox
// is exported, the export is applied by netlab in a FRESH sandbox, and the two labs' states
// (links, peers, masters, addresses, routes, sysctls, resolv.conf) are compared: equivalent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLab } from '../../src/config/load.js';
import { Sandbox } from '../helpers/sandbox.js';

/** 3 exported namespaces (a, b, r) and one that is not (x), all in documentation ranges. */
const BY_HAND = `
set -e
for n in r a b x; do ip netns add $n; ip -n $n link set lo up; done
ip -n r link add br0 type bridge
ip -n r link set br0 up
# a port named as netlab names it (a link to r:br0), one that is not (an interface with master:)
ip link add a-eth0 netns r type veth peer name eth0 netns a
ip link add port-b netns r type veth peer name eth0 netns b
ip link add up0 netns r type veth peer name eth0 netns x
ip link add eth1 netns a type veth peer name eth1 netns b
ip -n a link set eth1 mtu 9000
ip -n b link set eth1 mtu 9000
ip -n r link set a-eth0 master br0 up
ip -n r link set port-b master br0 up
ip -n r link set up0 up
ip -n a link set eth0 up
ip -n a link set eth1 up
ip -n b link set eth0 up
ip -n b link set eth1 up
ip -n x link set eth0 up
ip -n r addr add 198.51.100.1/24 dev br0
ip -n r addr add 2001:db8:1::1/64 dev br0 nodad
ip -n r addr add 203.0.113.1/24 dev up0
ip -n r route add 203.0.113.128/25 via 203.0.113.2
ip -n a addr add 198.51.100.10/24 dev eth0
ip -n a addr add 2001:db8:1::10/64 dev eth0 nodad
ip -n a addr add 2001:db8:12::1/64 dev eth1 nodad
ip -n b addr add 198.51.100.20/24 dev eth0
ip -n b addr add 2001:db8:12::2/64 dev eth1 nodad
ip -n a route add default via 198.51.100.1
ip -n a route add 2001:db8:99::/64 via 2001:db8:1::1 metric 10
ip -n b route add 203.0.113.0/24 via 198.51.100.1 metric 50
ip -n b route add default via 2001:db8:12::1
ip netns exec r sysctl -qw net.ipv4.ip_forward=1
mkdir -p /etc/netns/a
printf 'nameserver 198.51.100.53\\nsearch lab.test\\noptions ndots:2\\n' > /etc/netns/a/resolv.conf
`;

const EXPORTED = ['a', 'b', 'r'];

interface LinkJson {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  master?: string;
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ local: string; prefixlen: number; scope: string }>;
}

interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  metric?: number;
  protocol?: string;
  type?: string;
}

/**
 * What a lab is, read without netlab: per namespace its links (kind, master, up, mtu, addresses
 * but link-local ones), each veth's peer by namespace name and interface name (through
 * `ip netns list-id`), main-table routes but the kernel's, the two forwarding sysctls and the
 * resolver settings. Links whose peer is outside `names` are left out, as export leaves them out.
 */
async function labState(sb: Sandbox, names: string[]): Promise<Record<string, unknown>> {
  const raw = new Map<string, { links: LinkJson[]; ids: Map<number, string> }>();
  for (const ns of names) {
    const links = await sb.ipJson<LinkJson[]>(ns, ['-d', 'addr', 'show']);
    const ids = new Map((await sb.ipJson<Array<{ nsid: number; name?: string }>>(ns, ['netns', 'list-id'])).map((i) => [i.nsid, i.name ?? '?']));
    raw.set(ns, { links, ids });
  }
  const state: Record<string, unknown> = {};
  for (const ns of names) {
    const { links, ids } = raw.get(ns)!;
    const kept: Record<string, unknown> = {};
    for (const l of links) {
      if (l.ifname === 'lo') continue;
      let peer: string | undefined;
      if (l.linkinfo?.info_kind === 'veth') {
        const peerNs = l.link_netnsid === undefined ? ns : ids.get(l.link_netnsid);
        if (!peerNs || !names.includes(peerNs)) continue;
        const far = raw.get(peerNs)!.links.find((o) => o.ifindex === l.link_index);
        peer = `${peerNs}:${far?.ifname}`;
      }
      kept[l.ifname] = {
        kind: l.linkinfo?.info_kind,
        peer,
        master: l.master ?? null,
        up: l.flags.includes('UP'),
        mtu: l.mtu,
        addresses: (l.addr_info ?? [])
          .filter((a) => !a.local.startsWith('fe80:'))
          .map((a) => `${a.local}/${a.prefixlen}`)
          .sort(),
      };
    }
    const routes: string[] = [];
    for (const family of ['-4', '-6']) {
      const r = await sb.ipJson<RouteJson[]>(ns, [family, 'route', 'show', 'table', 'main']);
      for (const route of r) {
        if (route.protocol === 'kernel' || (route.type && route.type !== 'unicast')) continue;
        if (route.dev && !(route.dev in kept)) continue;
        routes.push(`${family} ${route.dst} via ${route.gateway ?? '-'} dev ${route.dev} metric ${route.metric ?? 0}`);
      }
    }
    const sysctls = (await sb.inNs(ns, ['sysctl', 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'])).stdout.trim().split('\n');
    const resolv = await sb.run(['cat', `/etc/netns/${ns}/resolv.conf`]);
    const resolver = resolv.exitCode === 0 ? resolv.stdout.split('\n').filter((line) => /^(nameserver|search|options) /.test(line)) : null;
    state[ns] = { links: kept, routes: routes.sort(), sysctls, resolver };
  }
  return state;
}

let handmade: Sandbox;
let fresh: Sandbox;

beforeAll(async () => {
  [handmade, fresh] = await Promise.all([Sandbox.create(), Sandbox.create()]);
});
afterAll(async () => {
  await Promise.all([handmade?.dispose(), fresh?.dispose()]);
});

describe('netlab export', () => {
  it('describes a lab built by hand so that netlab rebuilds an equivalent one in a fresh sandbox', async () => {
    await handmade.ok(['sh', '-c', BY_HAND]);
    const exported = await handmade.netlab('export', '--name', 'handmade', ...EXPORTED);
    expect(exported.stderr).toBe('');
    expect(exported.exitCode).toBe(0);
    const text = exported.stdout;

    // A comment first: when, and from what.
    expect(text).toMatch(/^# Exported by netlab export --name handmade a b r at \d{4}-\d\d-\d\dT[\d:.]+Z from the live network namespaces a, b, r/);
    // It loads as a lab.
    const loaded = parseLab(text, 'export.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(Object.keys(loaded.spec!.nodes).sort()).toEqual(EXPORTED);
    // The port named as netlab names it is a link to the bridge; the other keeps its name and master.
    expect(loaded.spec!.links).toEqual(
      expect.arrayContaining([
        ['a:eth0', 'r:br0'],
        ['b:eth0', 'r:port-b'],
        { endpoints: ['a:eth1', 'b:eth1'], mtu: 9000 },
      ]),
    );
    expect(loaded.spec!.links).toHaveLength(3);
    expect(loaded.spec!.nodes.r!.interfaces).toEqual({ 'port-b': { master: 'br0' } });
    // The veth to x, which is not exported, is named in a comment and left out with its route.
    expect(text).toMatch(/# left out: veth up0 \(addresses 203\.0\.113\.1\/24\): its peer is in namespace x, which is not exported/);
    expect(text).toMatch(/# left out: route 203\.0\.113\.128\/25 via 203\.0\.113\.2 dev up0/);
    expect(loaded.spec!.nodes.a!.dns).toEqual({ nameservers: ['198.51.100.53'], search: ['lab.test'], options: ['ndots:2'] });
    expect(loaded.spec!.nodes.r!.sysctls).toEqual({ 'net.ipv4.ip_forward': 1 });

    // Applied by netlab in a fresh sandbox, it is the same lab.
    await fresh.ok(['sh', '-c', 'cat > /run/export.yaml'], text);
    const applied = await fresh.netlab('apply', '/run/export.yaml');
    expect(applied.exitCode, applied.stderr).toBe(0);
    const [before, after] = await Promise.all([labState(handmade, EXPORTED), labState(fresh, EXPORTED)]);
    expect(after).toEqual(before);
    // And traffic flows as it did: over the bridge, and over the direct v6 link.
    expect(await fresh.ping('a', '198.51.100.20')).toBe(true);
    expect(await fresh.ping('b', '2001:db8:12::1')).toBe(true);

    // Exporting the rebuilt lab gives the same file, but for the header and what was left out.
    const again = await fresh.netlab('export', '--name', 'handmade', ...EXPORTED);
    const body = (t: string) => t.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    expect(body(again.stdout)).toBe(body(text));

    expect((await fresh.netlab('destroy', 'handmade')).exitCode).toBe(0);
    expect(await fresh.leftovers()).toEqual([]);
  });

  it('names the lab after the mark of the namespaces it reads, and refuses a namespace that does not exist', async () => {
    const missing = await fresh.netlab('export', 'nosuch');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no network namespace nosuch/);
    const lab = 'name: marked\nnodes:\n  p: {interfaces: {eth0: {addresses: [198.51.100.1/24]}}}\n  q: {interfaces: {eth0: {addresses: [198.51.100.2/24]}}}\nlinks:\n  - [p:eth0, q:eth0]\n';
    await fresh.ok(['sh', '-c', 'cat > /run/marked.yaml'], lab);
    expect((await fresh.netlab('apply', '/run/marked.yaml')).exitCode).toBe(0);
    const exported = await fresh.netlab('export', 'q', 'p');
    expect(exported.exitCode).toBe(0);
    expect(exported.stdout).toMatch(/^name: marked$/m);
    expect(exported.stdout).toMatch(/^ {2}- \[p:eth0, q:eth0\]$/m);
    expect((await fresh.netlab('destroy', 'marked')).exitCode).toBe(0);
    await fresh.ok(['rm', '-f', '/run/marked.yaml', '/run/export.yaml']);
    expect(await fresh.leftovers()).toEqual([]);
  });

  it('exports rules, numbered tables, typed and multipath routes and permanent neighbours so that they apply back the same', async () => {
    await handmade.ok(['sh', '-c', POLICY_BY_HAND]);
    const exported = await handmade.netlab('export', '--name', 'policy', 'pa', 'pb');
    expect(exported.exitCode, exported.stderr).toBe(0);
    const loaded = parseLab(exported.stdout, 'export.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec!.nodes.pa!.rules).toHaveLength(2);
    await fresh.ok(['sh', '-c', 'cat > /run/policy.yaml'], exported.stdout);
    const applied = await fresh.netlab('apply', '/run/policy.yaml');
    expect(applied.exitCode, applied.stderr).toBe(0);
    const [before, after] = await Promise.all([policyState(handmade, 'pa'), policyState(fresh, 'pa')]);
    expect(before.rules).toHaveLength(2);
    expect(before.routes).toHaveLength(5);
    expect(before.neighbors).toHaveLength(1);
    expect(after).toEqual(before);
    expect((await fresh.netlab('plan', '--detailed-exitcode', '/run/policy.yaml')).exitCode).toBe(0);
    expect((await fresh.netlab('destroy', 'policy')).exitCode).toBe(0);
    await fresh.ok(['rm', '-f', '/run/policy.yaml']);
    expect(await fresh.leftovers()).toEqual([]);
  });
});

/** Two namespaces with two links between them, and policy routing on pa. */
const POLICY_BY_HAND = `
set -e
for n in pa pb; do ip netns add $n; ip -n $n link set lo up; done
ip link add eth0 netns pa type veth peer name eth0 netns pb
ip link add eth1 netns pa type veth peer name eth1 netns pb
for n in pa pb; do ip -n $n link set eth0 up; ip -n $n link set eth1 up; done
ip -n pa addr add 192.0.2.1/24 dev eth0
ip -n pb addr add 192.0.2.2/24 dev eth0
ip -n pa addr add 198.51.100.1/24 dev eth1
ip -n pb addr add 198.51.100.2/24 dev eth1
ip -n pa rule add priority 100 from 192.0.2.0/24 table 200
ip -n pa rule add priority 110 to 203.0.113.0/24 fwmark 1 blackhole
ip -n pa route add default via 198.51.100.2 table 200
ip -n pa route add blackhole 203.0.113.0/25
ip -n pa route add unreachable 203.0.113.128/25
ip -n pa route add 10.9.0.0/16 nexthop via 192.0.2.2 weight 1 nexthop via 198.51.100.2 weight 2
ip -n pa route add 10.10.0.0/16 via 169.254.1.1 dev eth0 onlink
ip -n pa neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev eth0 nud permanent
`;

/** A namespace's rules but the kernel's three, routes of every table but the kernel's own, and permanent neighbours; without protocols, which by-hand objects lack and netlab's carry. */
async function policyState(sb: Sandbox, ns: string): Promise<{ rules: unknown[]; routes: unknown[]; neighbors: unknown[] }> {
  const drop = ({ protocol: _, ...rest }: Record<string, unknown>) => rest;
  const rules = (await sb.ipJson(ns, ['rule', 'show'])).filter((r) => ![0, 32766, 32767].includes(r.priority as number)).map(drop);
  const routes = (await sb.ipJson(ns, ['route', 'show', 'table', 'all']))
    .filter((r) => r.protocol !== 'kernel' && r.table !== 'local')
    .map(drop)
    .map((r) => JSON.stringify(r))
    .sort();
  const neighbors = (await sb.ipJson(ns, ['neigh', 'show', 'nud', 'permanent'])).map(drop);
  return { rules, routes, neighbors };
}

