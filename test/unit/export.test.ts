// netlab export, the pure part: kernel state (as the engine's reader parses it) → a lab file that
// validates and describes it. Fed hand-written `ip -d -j` output.
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/config/load.js';
import type { NamespaceSnapshot } from '../../src/kernel/export-read.js';
import { parseNode, type IpLinkJson, type IpRouteJson } from '../../src/kernel/parse.js';
import { resolveLab } from '../../src/model/resolve.js';
import { exportLab, parseResolvConf } from '../../src/views/export.js';
import { yamlString } from '../../src/views/yaml-text.js';

const AT = new Date('2025-05-04T03:02:01.000Z');

type Addr = NonNullable<IpLinkJson['addr_info']>[number];
const v4 = (cidr: string): Addr => ({ family: 'inet', local: cidr.split('/')[0]!, prefixlen: Number(cidr.split('/')[1]), scope: 'global' });
const v6 = (cidr: string): Addr => ({ family: 'inet6', local: cidr.split('/')[0]!, prefixlen: Number(cidr.split('/')[1]), scope: 'global' });
const ll = (ip: string): Addr => ({ family: 'inet6', local: ip, prefixlen: 64, scope: 'link' });
const lo: IpLinkJson = { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'] };

function veth(ifindex: number, ifname: string, peer: { ifindex: number; nsid?: number; name?: string }, extra: Partial<IpLinkJson> = {}): IpLinkJson {
  return {
    ifindex,
    ifname,
    flags: ['BROADCAST', 'UP'],
    mtu: 1500,
    link_index: peer.ifindex,
    link_netnsid: peer.nsid,
    link: peer.name ?? null,
    linkinfo: { info_kind: 'veth' },
    ...extra,
  };
}

function snapshot(
  netns: string,
  links: IpLinkJson[],
  nsids: Record<number, string>,
  more: { routes4?: IpRouteJson[]; routes6?: IpRouteJson[]; sysctl?: string; resolvConf?: string } = {},
): NamespaceSnapshot {
  const state = parseNode(netns, netns, {
    links: [lo, ...links],
    routes4: more.routes4 ?? [],
    routes6: more.routes6 ?? [],
    sysctlText: more.sysctl ?? 'net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n',
    resolvConf: more.resolvConf,
  });
  return { netns, state, nsids: new Map(Object.entries(nsids).map(([id, name]) => [Number(id), name])) };
}

/**
 * r holds bridge br0 with a port named as netlab names it (a-eth0) and one that is not (port-b),
 * and a veth to x, which is not exported. a and b are also joined directly, mtu 9000. The
 * ifindexes repeat across namespaces, as they do in the kernel.
 */
function handmade(): NamespaceSnapshot[] {
  const a = snapshot(
    'a',
    [
      veth(2, 'eth0', { ifindex: 3, nsid: 0 }, { addr_info: [v4('198.51.100.10/24'), v6('2001:db8:1::10/64'), ll('fe80::1')] }),
      veth(3, 'eth1', { ifindex: 3, nsid: 1 }, { mtu: 9000, addr_info: [v6('2001:db8:12::1/64')] }),
    ],
    { 0: 'r', 1: 'b' },
    {
      routes4: [
        { dst: 'default', gateway: '198.51.100.1', dev: 'eth0', protocol: 'boot', table: 'main' },
        { dst: '198.51.100.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', table: 'main' },
      ],
      routes6: [
        { dst: '2001:db8:99::/64', gateway: '2001:db8:1::1', dev: 'eth0', metric: 10, protocol: 'boot', table: 'main' },
        { dst: 'fe80::/64', dev: 'eth0', metric: 256, protocol: 'kernel', table: 'main' },
        { type: 'multicast', dst: 'ff00::/8', dev: 'eth0', metric: 256, protocol: 'kernel', table: 'local' },
      ],
      resolvConf: '# by hand\nnameserver 198.51.100.53\nsearch lab.test\noptions ndots:2 edns0\n',
    },
  );
  const b = snapshot(
    'b',
    [
      veth(2, 'eth0', { ifindex: 4, nsid: 0 }, { addr_info: [v4('198.51.100.20/24')] }),
      veth(3, 'eth1', { ifindex: 3, nsid: 1 }, { mtu: 9000, addr_info: [v6('2001:db8:12::2/64')] }),
    ],
    { 0: 'r', 1: 'a' },
    { routes4: [{ dst: '203.0.113.0/24', gateway: '198.51.100.1', dev: 'eth0', metric: 50, table: 'main' }] },
  );
  const r = snapshot(
    'r',
    [
      { ifindex: 2, ifname: 'br0', flags: ['UP'], mtu: 1500, linkinfo: { info_kind: 'bridge', info_data: { stp_state: 0 } }, addr_info: [v4('198.51.100.1/24')] },
      veth(3, 'a-eth0', { ifindex: 2, nsid: 0 }, { master: 'br0' }),
      veth(4, 'port-b', { ifindex: 2, nsid: 1 }, { master: 'br0' }),
      veth(5, 'up0', { ifindex: 2, nsid: 2 }, { addr_info: [v4('203.0.113.1/24')] }),
      { ifindex: 6, ifname: 'tun0', flags: ['UP'], linkinfo: { info_kind: 'tun' }, addr_info: [v4('192.0.2.1/32')] },
    ],
    { 0: 'a', 1: 'b', 2: 'x' },
    {
      routes4: [{ dst: '203.0.113.128/25', gateway: '203.0.113.2', dev: 'up0', table: 'main' }],
      sysctl: 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 0\n',
    },
  );
  return [r, b, a];
}

describe('exportLab', () => {
  const text = exportLab(handmade(), { name: 'handmade', exportedAt: AT, command: 'netlab export a b r', host: 'box' });

  it('starts with a comment saying when and from what, and validates', () => {
    expect(text.split('\n')[0]).toBe('# Exported by netlab export a b r at 2025-05-04T03:02:01.000Z from the live network namespaces a, b, r on box.');
    const loaded = parseLab(text, 'export.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec!.name).toBe('handmade');
  });

  it('pairs veths by both ends and namespace ids, and writes a port named as netlab names it as its bridge', () => {
    const spec = parseLab(text, 'export.yaml').spec!;
    expect(spec.links).toEqual([['a:eth0', 'r:br0'], { endpoints: ['a:eth1', 'b:eth1'], mtu: 9000 }, ['b:eth0', 'r:port-b']]);
    expect(spec.nodes.r).toEqual({
      sysctls: { 'net.ipv4.ip_forward': 1 },
      bridges: { br0: { addresses: ['198.51.100.1/24'] } },
      interfaces: { 'port-b': { master: 'br0' } },
    });
    expect(spec.nodes.a!.interfaces).toEqual({ eth0: { addresses: ['198.51.100.10/24', '2001:db8:1::10/64'] }, eth1: { addresses: ['2001:db8:12::1/64'] } });
  });

  it('keeps main-table routes but the kernel-made ones, and the resolver and forwarding settings', () => {
    const spec = parseLab(text, 'export.yaml').spec!;
    expect(spec.nodes.a!.routes).toEqual([{ to: 'default', via: '198.51.100.1' }, { to: '2001:db8:99::/64', via: '2001:db8:1::1', metric: 10 }]);
    expect(spec.nodes.b!.routes).toEqual([{ to: '203.0.113.0/24', via: '198.51.100.1', metric: 50 }]);
    expect(spec.nodes.a!.dns).toEqual({ nameservers: ['198.51.100.53'], search: ['lab.test'], options: ['ndots:2', 'edns0'] });
    expect(spec.nodes.a!.sysctls).toBeUndefined();
  });

  it('says in a comment what it leaves out, and why', () => {
    expect(text).toContain('    # left out: tun0 (addresses 192.0.2.1/32): neither a veth nor a bridge');
    expect(text).toContain('    # left out: veth up0 (addresses 203.0.113.1/24): its peer is in namespace x, which is not exported');
    expect(text).toContain('    # left out: route 203.0.113.128/25 via 203.0.113.2 dev up0: it goes out of up0, which is left out');
  });

  it('describes the same links, masters, addresses and routes as the state it was read from', () => {
    const desired = resolveLab(parseLab(text, 'export.yaml').spec!);
    for (const snap of handmade()) {
      const want = desired.nodes.get(snap.netns)!;
      for (const [name, link] of want.links) {
        const have = snap.state.links.get(name)!;
        expect({ name, type: have.type, master: have.master, addresses: have.addresses }).toEqual({ name, type: link.type, master: link.master, addresses: link.addresses });
      }
      const kept = [...snap.state.routes.keys()].filter((k) => !k.includes('203.0.113.128'));
      expect([...want.routes.keys()].sort()).toEqual(kept.sort());
    }
  });

  it('is the same text for the same state, in whatever order the namespaces come', () => {
    expect(exportLab([...handmade()].reverse(), { name: 'handmade', exportedAt: AT, command: 'netlab export a b r', host: 'box' })).toBe(text);
  });
});

describe('exportLab: pairs and names', () => {
  it('does not pair two veths that point at each other by ifindex alone when their namespace ids say otherwise', () => {
    // p:e1 (2) ↔ q:e1 (2) is a pair; s:e9 also has ifindex 2 and points at ifindex 2, but in z.
    const p = snapshot('p', [veth(2, 'e1', { ifindex: 2, nsid: 0 })], { 0: 'q' });
    const q = snapshot('q', [veth(2, 'e1', { ifindex: 2, nsid: 0 })], { 0: 'p' });
    const s = snapshot('s', [veth(2, 'e9', { ifindex: 2, nsid: 0 })], { 0: 'z' });
    const out = exportLab([p, q, s], { exportedAt: AT });
    expect(parseLab(out, 'x.yaml').spec!.links).toEqual([['p:e1', 'q:e1']]);
    expect(out).toContain('# left out: veth e9: its peer is in namespace z, which is not exported');
  });

  it('pairs a veth whose ends are both in one namespace, and says when a peer is in an unnamed namespace', () => {
    const one = snapshot(
      'one',
      [veth(2, 'left', { ifindex: 3, name: 'right' }), veth(3, 'right', { ifindex: 2, name: 'left' }), veth(4, 'out0', { ifindex: 9, nsid: 5 })],
      {},
    );
    const out = exportLab([one], { exportedAt: AT });
    expect(parseLab(out, 'x.yaml').spec!.links).toEqual([['one:left', 'one:right']]);
    expect(out).toMatch(/# left out: veth out0: its peer is in a namespace with no name under \/run\/netns/);
  });

  it('writes both ends as bridges for a link between two bridges, and a port with settings of its own by name', () => {
    const sw1 = snapshot(
      'sw1',
      [
        { ifindex: 2, ifname: 'br0', flags: ['UP'], linkinfo: { info_kind: 'bridge' } },
        veth(3, 'sw2-br0', { ifindex: 3, nsid: 0 }, { master: 'br0' }),
        veth(4, 'h-eth0', { ifindex: 2, nsid: 1 }, { master: 'br0', flags: ['BROADCAST'] }),
      ],
      { 0: 'sw2', 1: 'h' },
    );
    const sw2 = snapshot('sw2', [{ ifindex: 2, ifname: 'br0', flags: ['UP'], linkinfo: { info_kind: 'bridge', info_data: { stp_state: 1 } } }, veth(3, 'sw1-br0', { ifindex: 3, nsid: 0 }, { master: 'br0' })], { 0: 'sw1' });
    const h = snapshot('h', [veth(2, 'eth0', { ifindex: 4, nsid: 0 })], { 0: 'sw1' });
    const out = exportLab([sw1, sw2, h], { exportedAt: AT });
    const loaded = parseLab(out, 'x.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec!.links).toEqual([['h:eth0', 'sw1:h-eth0'], ['sw1:br0', 'sw2:br0']]);
    // The port is down: netlab would bring a port it names itself up, so it is written by name.
    expect(loaded.spec!.nodes.sw1!.interfaces).toEqual({ 'h-eth0': { master: 'br0', up: false } });
    expect(loaded.spec!.nodes.sw2!.bridges).toEqual({ br0: { stp: true } });
  });

  it('names the lab after the mark every namespace carries, else "exported"', () => {
    const a = snapshot('a', [], {});
    a.state.owner = 'mylab';
    const b = snapshot('b', [], {});
    b.state.owner = 'mylab';
    expect(exportLab([a, b], { exportedAt: AT })).toMatch(/^name: mylab$/m);
    b.state.owner = undefined;
    expect(exportLab([a, b], { exportedAt: AT })).toMatch(/^name: exported$/m);
    expect(exportLab([a, b], { exportedAt: AT })).toMatch(/^ {2}a: \{\}$/m);
  });

  it('writes a v6 default route without a gateway as ::/0, and dev when the gateway does not say it', () => {
    const n = snapshot('n', [veth(2, 'e1', { ifindex: 2, nsid: 0 }, { addr_info: [v6('2001:db8::1/64'), v4('198.51.100.1/24')] }), veth(3, 'e2', { ifindex: 3, nsid: 0 }, { addr_info: [v4('198.51.100.2/24')] })], { 0: 'm' }, {
      routes6: [{ dst: 'default', dev: 'e1', metric: 1024, table: 'main' }, { dst: '2001:db8:5::/64', gateway: 'fe80::2', dev: 'e1', metric: 1024, table: 'main' }],
      routes4: [{ dst: '203.0.113.0/24', gateway: '198.51.100.9', dev: 'e2', table: 'main' }],
    });
    const m = snapshot('m', [veth(2, 'e1', { ifindex: 2, nsid: 0 }), veth(3, 'e2', { ifindex: 3, nsid: 0 })], { 0: 'n' });
    const out = exportLab([n, m], { exportedAt: AT });
    const loaded = parseLab(out, 'x.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec!.nodes.n!.routes).toEqual([
      { to: '203.0.113.0/24', via: '198.51.100.9', dev: 'e2' },
      { to: '2001:db8:5::/64', via: 'fe80::2', dev: 'e1' },
      { to: '::/0', dev: 'e1' },
    ]);
  });
});

describe('helpers', () => {
  it('quotes YAML strings only when they need it', () => {
    expect(yamlString('198.51.100.1/24')).toBe('198.51.100.1/24');
    expect(yamlString('c0:eth0')).toBe('c0:eth0');
    expect(yamlString('2001:db8::1/64')).toBe('"2001:db8::1/64"');
    expect(yamlString('true')).toBe('"true"');
    expect(yamlString('1.5')).toBe('"1.5"');
    expect(yamlString('a b')).toBe('"a b"');
  });

  it('reads resolv.conf as libc does, naming lines the dns key cannot hold', () => {
    expect(parseResolvConf('domain old.test\nnameserver 198.51.100.53\nsortlist 10.0.0.0\n; c\n')).toEqual({
      dns: { nameservers: ['198.51.100.53'], search: ['old.test'], options: [] },
      skipped: ['sortlist 10.0.0.0'],
    });
  });
});
