// netlab trace's pure part: which nft rule decides for a packet, and the hop-by-hop walk, fed the
// kernel's answers as captured from applied labs (test/fixtures/trace/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/kernel/runner.js';
import { emptyNode, type LabState, type LinkState } from '../../src/model/types.js';
import { listensOn } from '../../src/trace/kernel.js';
import { judgeHook, parseTableJson, ruleText, type PacketView } from '../../src/trace/nft-eval.js';
import { parseMonitorTrace, verdictsFor } from '../../src/trace/nftrace.js';
import { renderTrace } from '../../src/trace/render.js';
import { noRouteWhy, trace, type TraceKernel } from '../../src/trace/walk.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/trace/${name}`, import.meta.url), 'utf8');
const natTable = parseTableJson(fixture('nat-host-nft.json'));
const routerTable = parseTableJson(fixture('router-nft.json'));

const packet = (p: Partial<PacketView>): PacketView => ({ family: 4, proto: 'icmp', src: '', dst: '', ctState: 'new', dstLocal: false, ...p });

describe('nft rules judged for one packet', () => {
  it('masquerades what leaves 172.18.0.0/16 by anything but br0', () => {
    const out = judgeHook(natTable, 'postrouting', packet({ src: '172.18.0.10', dst: '198.51.100.1', iif: 'br0', oif: 'eth0' }));
    expect(out).toEqual([expect.objectContaining({ chain: 'nat_postrouting', decision: 'accept', rule: 'ip saddr 172.18.0.0/16 oifname != br0 masquerade', rewrite: { kind: 'masquerade' } })]);
    const across = judgeHook(natTable, 'postrouting', packet({ src: '172.18.0.10', dst: '172.18.0.20', iif: 'br0', oif: 'br0' }));
    expect(across[0]!.rule).toBeUndefined();
    expect(across[0]!.rewrite).toBeUndefined();
  });

  it('maps port 1234 arriving on eth0 to 172.18.0.10:11211, and the local twin by fib daddr type', () => {
    const dnat = { kind: 'dnat', addr: '172.18.0.10', port: 11211 };
    expect(judgeHook(natTable, 'prerouting', packet({ proto: 'tcp', dport: 1234, src: '198.51.100.1', dst: '198.51.100.100', iif: 'eth0' }))[0]!.rewrite).toEqual(dnat);
    expect(judgeHook(natTable, 'prerouting', packet({ proto: 'tcp', dport: 1234, src: '172.18.0.20', dst: '198.51.100.100', iif: 'br0' }))[0]!.rewrite).toBeUndefined();
    expect(judgeHook(natTable, 'prerouting', packet({ proto: 'udp', dport: 1234, iif: 'eth0' }))[0]!.rewrite).toBeUndefined();
    expect(judgeHook(natTable, 'output', packet({ proto: 'tcp', dport: 1234, dst: '198.51.100.100', dstLocal: true }))[0]!.rewrite).toEqual(dnat);
  });

  it('NAT chains are not consulted for a reply: conntrack does its NAT', () => {
    expect(judgeHook(natTable, 'postrouting', packet({ src: '172.18.0.10', oif: 'eth0', ctState: 'established' }))).toEqual([]);
  });

  it('the forward policy drops what no rule accepts; a reply passes as established; port 22 is rejected', () => {
    const dropped = judgeHook(routerTable, 'forward', packet({ src: '203.0.113.10', dst: '198.51.100.10', iif: 'right', oif: 'left' }));
    expect(dropped).toEqual([{ chain: 'forward', hook: 'forward', type: 'filter', priority: 0, decision: 'drop' }]);
    const reply = judgeHook(routerTable, 'forward', packet({ src: '203.0.113.10', dst: '198.51.100.10', iif: 'right', oif: 'left', ctState: 'established' }));
    expect(reply[0]).toMatchObject({ decision: 'accept', rule: 'ct state { established, related } accept' });
    const ssh = judgeHook(routerTable, 'forward', packet({ proto: 'tcp', dport: 22, iif: 'left', oif: 'right' }));
    expect(ssh[0]).toMatchObject({ decision: 'reject', rule: 'iifname left oifname right tcp dport 22 reject' });
    const v6 = judgeHook(routerTable, 'forward', packet({ family: 6, iif: 'left', oif: 'right' }));
    expect(v6[0]).toMatchObject({ decision: 'accept', rule: 'iifname left oifname right meta l4proto ipv6-icmp accept' });
  });

  it('says it cannot tell where a match is beyond the packet (a mark)', () => {
    const table = parseTableJson(JSON.stringify({ nftables: [
      { chain: { name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
      { rule: { chain: 'forward', handle: 2, expr: [{ match: { op: '==', left: { meta: { key: 'mark' } }, right: 7 } }, { drop: null }] } },
    ] }));
    expect(judgeHook(table, 'forward', packet({}))[0]).toMatchObject({ decision: 'unknown', rule: 'mark 7 drop', why: 'cannot tell whether the rule matches this packet' });
  });

  it('prints a rule as nft would', () => {
    expect(ruleText([{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '10.0.0.0', len: 8 } } } }, { counter: null }, { accept: null }])).toBe('ip daddr 10.0.0.0/8 accept');
  });
});

describe('listeners from ss', () => {
  it('finds a port among the local addresses', () => {
    const ss = 'LISTEN 0      5            0.0.0.0:11211      0.0.0.0:*\nLISTEN 0 5 [::]:22 [::]:*\n';
    expect(listensOn(ss, 11211)).toBe(true);
    expect(listensOn(ss, 22)).toBe(true);
    expect(listensOn(ss, 1121)).toBe(false);
    expect(listensOn('', 80)).toBe(false);
  });
});

// --- a lab as the engine reads it, and the kernel's answers per node ---------------------------

function veth(name: string, ifindex: number, peerIfindex: number, addresses: string[], master: string | null = null): LinkState {
  return { name, type: 'veth', master, up: true, addresses, kernelPeer: { ifindex, peerIfindex, peerNetnsId: 0 } };
}

function bridge(name: string, addresses: string[]): LinkState {
  return { name, type: 'bridge', master: null, up: true, addresses };
}

function labOf(name: string, nodes: Record<string, LinkState[]>): LabState {
  const lab: LabState = { lab: name, nodes: new Map() };
  for (const [node, links] of Object.entries(nodes)) {
    const state = emptyNode(node, node, true);
    for (const l of links) state.links.set(l.name, l);
    lab.nodes.set(node, state);
  }
  return lab;
}

const ok = (route: object): RunResult => ({ exitCode: 0, stdout: JSON.stringify([route]), stderr: '' });
const fails = (message: string): RunResult => ({ exitCode: 2, stdout: '', stderr: `RTNETLINK answers: ${message}\n` });

interface Answers {
  routes: Record<string, RunResult>;
  sysctls?: Record<string, Record<string, string>>;
  tables?: Record<string, ReturnType<typeof parseTableJson>>;
  listening?: string[];
}

/** Route answers are keyed "node dst [from SRC] [iif IIF]", as the walk asks them. */
function fakeKernel(answers: Answers): TraceKernel & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async routeGet(node, _family, dst, from, iif) {
      const key = [node, dst, ...(from ? ['from', from] : []), ...(iif ? ['iif', iif] : [])].join(' ');
      asked.push(key);
      const exact = answers.routes[key] ?? answers.routes[[node, dst, ...(iif ? ['iif', iif] : [])].join(' ')] ?? answers.routes[`${node} ${dst}`];
      if (!exact) throw new Error(`no captured answer for route get ${key}`);
      return exact;
    },
    async sysctls(node, keys) {
      const values = answers.sysctls?.[node] ?? {};
      return new Map(keys.flatMap((k) => (values[k] !== undefined ? [[k, values[k]!] as [string, string]] : [])));
    },
    async neighbour() {
      return undefined;
    },
    async table(node) {
      return answers.tables?.[node];
    },
    async listening(node, proto, port) {
      return answers.listening?.includes(`${node}:${port}/${proto}`) ?? false;
    },
  };
}

// seed-001-nat: netns0 and netns1 on host's br0, host's eth0 to internet. Ifindexes as the kernel gave them.
const seedNat = labOf('seed-001-nat', {
  host: [bridge('br0', ['172.18.0.1/16']), veth('veth0', 3, 2, [], 'br0'), veth('veth1', 4, 2, [], 'br0'), veth('eth0', 2, 5, ['198.51.100.100/24'])],
  netns0: [veth('ceth0', 2, 3, ['172.18.0.10/16'])],
  netns1: [veth('ceth1', 2, 4, ['172.18.0.20/16'])],
  internet: [veth('eth0', 5, 2, ['198.51.100.1/24'])],
});
const forwarding = { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0' };

describe('a trace through seed 001 with NAT', () => {
  const answers: Answers = {
    routes: {
      'netns0 198.51.100.1': ok({ dst: '198.51.100.1', gateway: '172.18.0.1', dev: 'ceth0', prefsrc: '172.18.0.10' }),
      'host 198.51.100.1 iif br0': ok({ dst: '198.51.100.1', from: '172.18.0.10', dev: 'eth0', iif: 'br0' }),
      'host 198.51.100.1': ok({ dst: '198.51.100.1', dev: 'eth0', prefsrc: '198.51.100.100' }),
      'internet 198.51.100.1 iif eth0': ok({ type: 'local', dst: '198.51.100.1', dev: 'lo', iif: 'eth0' }),
      'internet 198.51.100.100': ok({ dst: '198.51.100.100', dev: 'eth0', prefsrc: '198.51.100.1' }),
      'host 198.51.100.100 iif eth0': ok({ type: 'local', dst: '198.51.100.100', dev: 'lo', iif: 'eth0' }),
      'host 172.18.0.10 iif eth0': ok({ dst: '172.18.0.10', dev: 'br0', iif: 'eth0' }),
      'netns0 172.18.0.10 iif ceth0': ok({ type: 'local', dst: '172.18.0.10', dev: 'lo', iif: 'ceth0' }),
      'netns0 172.18.0.10': ok({ type: 'local', dst: '172.18.0.10', dev: 'lo' }),
      'netns0 198.51.100.1 from 172.18.0.10': ok({ dst: '198.51.100.1', gateway: '172.18.0.1', dev: 'ceth0' }),
      'host 172.18.0.10 iif br0': ok({ type: 'local', dst: '172.18.0.10', dev: 'lo', iif: 'br0' }),
      'internet 172.18.0.10': fails('Network is unreachable'),
    },
    sysctls: { host: forwarding, internet: { 'net.ipv4.ip_forward': '0' }, netns0: { 'net.ipv4.ip_forward': '0' } },
    tables: { host: natTable },
  };

  it('ping out through the masquerade: the next hop sees the host address, conntrack turns the reply back', async () => {
    const t = await trace(seedNat, fakeKernel(answers), { from: 'netns0', dst: '198.51.100.1', proto: 'icmp' });
    expect(t.reaches).toBe(true);
    expect(t.hops.map((h) => `${h.direction} ${h.node}${h.iif ? `<${h.iif}` : ''} ${h.src}>${h.dst}`)).toEqual([
      'request netns0 172.18.0.10>198.51.100.1',
      'request host<br0 172.18.0.10>198.51.100.1',
      'request internet<eth0 198.51.100.100>198.51.100.1',
      'reply internet 198.51.100.1>198.51.100.100',
      'reply host<eth0 198.51.100.1>198.51.100.100',
      'reply netns0<ceth0 198.51.100.1>172.18.0.10',
    ]);
    expect(t.hops[1]!.rewrites).toEqual(['source 172.18.0.10 → 198.51.100.100 (masquerade in nat_postrouting)']);
    expect(t.hops[1]!.forwarding).toEqual({ key: 'net.ipv4.ip_forward', on: true });
    expect(t.hops[0]!.egress).toMatchObject({ dev: 'ceth0', nextHop: '172.18.0.1', owner: 'host' });
    expect(t.verdict).toBe('netns0 → 198.51.100.1 (icmp): reaches internet and the reply comes back (source 172.18.0.10 → 198.51.100.100 (masquerade in nat_postrouting) at host)');
    expect(renderTrace('seed-001-nat', t)).toContain('nft nat_postrouting (postrouting, nat): rule "ip saddr 172.18.0.0/16 oifname != br0 masquerade" → accept');
  });

  it('without the masquerade the packet arrives, and the reply to 172.18.0.10 has no route back', async () => {
    const t = await trace(seedNat, fakeKernel({ ...answers, tables: {} }), { from: 'netns0', dst: '198.51.100.1', proto: 'icmp' });
    expect(t.reaches).toBe(false);
    expect(t.end).toEqual({ kind: 'dropped', node: 'internet', direction: 'reply', why: 'no route to 172.18.0.10 (network is unreachable)' });
    expect(t.verdict).toBe('netns0 → 198.51.100.1 (icmp): reaches internet, but the reply never comes back — at internet, no route to 172.18.0.10 (network is unreachable)');
  });

  it('a router with ip_forward off drops what it would forward', async () => {
    const t = await trace(seedNat, fakeKernel({ ...answers, sysctls: { host: { 'net.ipv4.ip_forward': '0' } } }), { from: 'netns0', dst: '198.51.100.1', proto: 'icmp' });
    expect(t.end).toEqual({ kind: 'dropped', node: 'host', direction: 'request', why: 'host does not forward: net.ipv4.ip_forward is 0' });
  });

  it('strict rp_filter drops a packet whose way back is another interface', async () => {
    const rp = { ...forwarding, 'net.ipv4.conf.all.rp_filter': '1' };
    const routes = { ...answers.routes, 'host 172.18.0.10': ok({ dst: '172.18.0.10', dev: 'eth0' }) };
    const t = await trace(seedNat, fakeKernel({ ...answers, routes, sysctls: { host: rp } }), { from: 'netns0', dst: '198.51.100.1', proto: 'icmp' });
    expect(t.end.why).toBe('rp_filter (strict) drops it: the route back to 172.18.0.10 leaves by eth0, not br0');
  });

  it('the published port: DNAT to netns0:11211, where nothing listens yet', async () => {
    const routes = {
      ...answers.routes,
      'internet 198.51.100.100': ok({ dst: '198.51.100.100', dev: 'eth0', prefsrc: '198.51.100.1' }),
      'host 172.18.0.10 iif eth0': ok({ dst: '172.18.0.10', dev: 'br0', iif: 'eth0' }),
      'internet 198.51.100.100 iif eth0': ok({ type: 'local', dst: '198.51.100.100', dev: 'lo' }),
    };
    const t = await trace(seedNat, fakeKernel({ ...answers, routes }), { from: 'internet', dst: '198.51.100.100', proto: 'tcp', port: 1234 });
    const host = t.hops.find((h) => h.node === 'host' && h.direction === 'request')!;
    expect(host.rewrites).toEqual(['destination 198.51.100.100:1234 → 172.18.0.10:11211 (dnat in nat_prerouting)']);
    const arrival = t.hops.filter((h) => h.direction === 'request').at(-1)!;
    expect(arrival).toMatchObject({ node: 'netns0', dst: '172.18.0.10', dport: 11211, end: { kind: 'delivered', listening: false } });
  });
});

describe('a trace through the two veths of seed 001', () => {
  const twoVeths = labOf('seed-001-two-veths', {
    host: [veth('veth0', 2, 2, ['172.18.0.11/16']), veth('veth1', 3, 2, ['172.18.0.21/16'])],
    netns0: [veth('ceth0', 2, 2, ['172.18.0.10/16'])],
    netns1: [veth('ceth1', 2, 3, ['172.18.0.20/16'])],
  });

  it('the packet for netns1 leaves by the first veth, where nobody answers ARP for it', async () => {
    const kernel = fakeKernel({ routes: { 'host 172.18.0.20': ok({ dst: '172.18.0.20', dev: 'veth0', prefsrc: '172.18.0.11' }) } });
    const t = await trace(twoVeths, kernel, { from: 'host', dst: '172.18.0.20', proto: 'icmp' });
    expect(t.reaches).toBe(false);
    expect(t.hops[0]!.egress).toEqual({ dev: 'veth0', nextHop: '172.18.0.20', neighbour: 'none yet', leadsTo: 'netns0:ceth0' });
    expect(t.end.why).toBe('no node behind veth0 has 172.18.0.20: veth0 leads to netns0 (172.18.0.10), so ARP for 172.18.0.20 gets no answer');
  });
});

describe('why the kernel found no route', () => {
  it('names the route type from the error the kernel gives for it', () => {
    expect(noRouteWhy('10.66.1.1', 'Invalid argument')).toBe('a blackhole route swallows 10.66.1.1 (the kernel answers: invalid argument)');
    expect(noRouteWhy('10.67.1.1', 'No route to host')).toBe('an unreachable route for 10.67.1.1 (the kernel answers: no route to host)');
    expect(noRouteWhy('10.68.1.1', 'Permission denied')).toBe('a prohibit route for 10.68.1.1 (the kernel answers: permission denied)');
    expect(noRouteWhy('10.69.1.1', 'Network is unreachable')).toBe('no route to 10.69.1.1 (network is unreachable)');
  });
});

describe('what nft monitor trace says matched', () => {
  const router = parseMonitorTrace(fixture('monitor-router.txt'));
  const host = parseMonitorTrace(fixture('monitor-host.txt'));

  it('per chain, the verdict for the first packet of the flow: b → a meets the policy drop, a → b the icmp rule', () => {
    expect(verdictsFor(router, '203.0.113.10', '198.51.100.10')).toEqual([{ chain: 'forward', verdict: 'drop' }]);
    expect(verdictsFor(router, '198.51.100.10', '203.0.113.10')).toEqual([{ chain: 'forward', rule: 'iifname "left" oifname "right" meta l4proto icmp accept', verdict: 'accept' }]);
    expect(verdictsFor(router, '192.0.2.1', '198.51.100.10')).toEqual([]);
  });

  it('the DNAT rule and the postrouting policy, the temporary chain left out', () => {
    expect(verdictsFor(host, '198.51.100.1', '198.51.100.100')).toEqual([
      { chain: 'nat_prerouting', rule: 'iifname "eth0" tcp dport 1234 dnat ip to 172.18.0.10:11211', verdict: 'accept' },
      { chain: 'nat_postrouting', verdict: 'accept' },
    ]);
  });
});

describe('across a bridge', () => {
  it('a packet from netns0 to netns1 goes straight to netns1 through host\'s br0, without an IP hop at host', async () => {
    const kernel = fakeKernel({
      routes: {
        'netns0 172.18.0.20': ok({ dst: '172.18.0.20', dev: 'ceth0', prefsrc: '172.18.0.10' }),
        'netns1 172.18.0.20 iif ceth1': ok({ type: 'local', dst: '172.18.0.20', dev: 'lo' }),
        'netns1 172.18.0.10': ok({ dst: '172.18.0.10', dev: 'ceth1', prefsrc: '172.18.0.20' }),
        'netns0 172.18.0.10 iif ceth0': ok({ type: 'local', dst: '172.18.0.10', dev: 'lo' }),
      },
    });
    const t = await trace(seedNat, kernel, { from: 'netns0', dst: '172.18.0.20', proto: 'icmp' });
    expect(t.hops.map((h) => `${h.direction} ${h.node}`)).toEqual(['request netns0', 'request netns1', 'reply netns1', 'reply netns0']);
    expect(t.hops[0]!.egress).toMatchObject({ leadsTo: 'host:br0, netns1:ceth1', owner: 'netns1' });
    expect(t.reaches).toBe(true);
  });
});
