// netlab trace on the seeds' puzzles, in the real kernel: each explanation asserted, and each
// checked by the real probe (exit 0 only when the probe agrees with the explanation).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

interface TraceJson {
  reaches: boolean;
  verdict: string;
  end: { kind: string; node: string; why: string; direction: string };
  hops: Array<{ node: string; direction: string; iif?: string; src: string; dst: string; dport?: number; rewrites: string[]; chains: Array<{ chain: string; decision: string; rule?: string }>; egress?: { dev: string; nextHop: string; owner?: string; leadsTo?: string }; forwarding?: { on: boolean } }>;
  check?: { probe: string; reached: boolean; agrees: boolean; served?: string; packets?: string[]; nft?: Array<{ node: string; chain: string; rule?: string; verdict: string; agrees: boolean }> };
}

async function traced(...args: string[]): Promise<TraceJson & { exitCode: number }> {
  const r = await sb.netlab('trace', ...args, '--json', '--timeout', '2');
  if (r.stdout === '') throw new Error(`netlab trace ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as TraceJson), exitCode: r.exitCode };
}

/** A copy of a seed lab with some lines of it left out. */
function without(file: string, pattern: RegExp): string {
  const text = readFileSync(join(TOPOLOGIES, file), 'utf8').split('\n').filter((l) => !pattern.test(l)).join('\n');
  const path = join(mkdtempSync(join(tmpdir(), 'netlab-trace-')), file);
  writeFileSync(path, text);
  return path;
}

describe('netlab trace', () => {
  it('seed 001, two veths in one subnet: the packet for netns1 leaves by veth0, and nobody there has 172.18.0.20', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'seed-001-two-veths.yaml'));
    const t = await traced('seed-001-two-veths', 'host', 'netns1');
    expect(t.hops[0]!.egress).toMatchObject({ dev: 'veth0', nextHop: '172.18.0.20', leadsTo: 'netns0:ceth0' });
    expect(t.end).toMatchObject({ kind: 'dropped', node: 'host', direction: 'request' });
    expect(t.end.why).toContain('ARP for 172.18.0.20 gets no answer');
    expect(t.check).toMatchObject({ reached: false, agrees: true });
    expect(t.exitCode).toBe(0);
    // netns0, behind the first veth, answers.
    const first = await traced('seed-001-two-veths', 'host', 'netns0');
    expect(first).toMatchObject({ reaches: true, exitCode: 0, check: { reached: true, agrees: true } });
  });

  it('seed 001 step 3, the bridge: netns0 reaches netns1 through br0 in one L2 hop', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'seed-001-step3-bridge.yaml'));
    const t = await traced('seed-001-step3', 'netns0', 'netns1');
    expect(t.hops.map((h) => `${h.direction} ${h.node}`)).toEqual(['request netns0', 'request netns1', 'reply netns1', 'reply netns0']);
    expect(t.hops[0]!.egress).toMatchObject({ dev: 'ceth0', nextHop: '172.18.0.20', owner: 'netns1' });
    expect(t).toMatchObject({ reaches: true, exitCode: 0, check: { reached: true, agrees: true } });
  });

  it('a node without a default route: no route, said at the first hop', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'seed-001-step5-masquerade.yaml'));
    await sb.ok(['nsenter', '--net=/run/netns/netns1', 'ip', 'route', 'del', 'default']);
    const t = await traced('seed-001-step5', 'netns1', '198.51.100.1');
    expect(t.end).toEqual({ kind: 'dropped', node: 'netns1', direction: 'request', why: 'no route to 198.51.100.1 (network is unreachable)' });
    expect(t).toMatchObject({ reaches: false, exitCode: 0, check: { reached: false, agrees: true } });
  });

  it('a router without ip_forward drops what it would forward', async () => {
    const file = join(TOPOLOGIES, 'seed-001-step5-masquerade.yaml');
    await sb.netlabOk('apply', file);
    expect((await traced(file, 'netns0', 'internet')).reaches).toBe(true);
    await sb.ok(['nsenter', '--net=/run/netns/host', 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    const t = await traced(file, 'netns0', 'internet');
    expect(t.end).toEqual({ kind: 'dropped', node: 'host', direction: 'request', why: 'host does not forward: net.ipv4.ip_forward is 0' });
    expect(t).toMatchObject({ exitCode: 0, check: { reached: false, agrees: true } });
  });

  it('without the MASQUERADE the ping arrives, and the reply to 172.18.0.10 never comes back', async () => {
    await sb.netlabOk('apply', without('seed-001-step5-masquerade.yaml', /^\s+(nat:|- \{type: masquerade)/));
    const t = await traced('seed-001-step5', 'netns0', '198.51.100.1');
    const arrival = t.hops.filter((h) => h.direction === 'request').at(-1)!;
    expect(arrival).toMatchObject({ node: 'internet', src: '172.18.0.10', dst: '198.51.100.1' });
    expect(t.end).toEqual({ kind: 'dropped', node: 'internet', direction: 'reply', why: 'no route to 172.18.0.10 (network is unreachable)' });
    expect(t).toMatchObject({ reaches: false, exitCode: 0, check: { reached: false, agrees: true } });
  });

  it('with it, the internet sees the host address and the reply is turned back by conntrack', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'seed-001-step5-masquerade.yaml'));
    const t = await traced('seed-001-step5', 'netns0', '198.51.100.1');
    const host = t.hops.find((h) => h.node === 'host' && h.direction === 'request')!;
    expect(host.rewrites).toEqual(['source 172.18.0.10 → 198.51.100.100 (masquerade in nat_postrouting)']);
    expect(t).toMatchObject({ reaches: true, exitCode: 0, check: { reached: true, agrees: true } });
  });

  it('--capture shows the probe on each interface it crosses, the masquerade as it happens, and leaves no tcpdump', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'seed-001-step5-masquerade.yaml'));
    const t = await traced('seed-001-step5', 'netns0', '198.51.100.1', '--capture');
    const packets = t.check!.packets!;
    expect(packets.some((p) => /^\[hop 1 netns0:ceth0 out\] \S+ IP 172\.18\.0\.10 > 198\.51\.100\.1: ICMP echo request/.test(p))).toBe(true);
    expect(packets.some((p) => /^\[hop 2 host:eth0 out\] \S+ IP 198\.51\.100\.100 > 198\.51\.100\.1: ICMP echo request/.test(p))).toBe(true);
    expect(packets.some((p) => /^\[hop 3 internet:eth0 in\] \S+ IP 198\.51\.100\.1 > 198\.51\.100\.100: ICMP echo reply/.test(p))).toBe(true);
    expect(packets.every((p) => /^\[hop \d \S+ (in|out)\] \S+ IP /.test(p))).toBe(true);
    expect((await sb.run(['pgrep', '-r', 'RSD', 'tcpdump'])).stdout).toBe('');
  });

  it('the DNAT port mapping of seed-001-nat: 198.51.100.100:1234 reaches netns0:11211', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'seed-001-nat.yaml'));
    const t = await traced('seed-001-nat', 'internet', '198.51.100.100', '--proto', 'tcp', '--port', '1234');
    const host = t.hops.find((h) => h.node === 'host' && h.direction === 'request')!;
    expect(host.rewrites).toEqual(['destination 198.51.100.100:1234 → 172.18.0.10:11211 (dnat in nat_prerouting)']);
    expect(t.hops.filter((h) => h.direction === 'request').at(-1)).toMatchObject({ node: 'netns0', dst: '172.18.0.10', dport: 11211 });
    expect(t).toMatchObject({ reaches: true, exitCode: 0, check: { reached: true, agrees: true, served: 'netns0:11211/tcp' } });
    // Its OUTPUT twin, for a connection made on the host itself.
    const local = await traced('seed-001-nat', 'host', '198.51.100.100', '--proto', 'tcp', '--port', '1234');
    expect(local.hops[0]!.rewrites).toEqual(['destination 198.51.100.100:1234 → 172.18.0.10:11211 (dnat in nat_output)']);
    expect(local).toMatchObject({ reaches: true, exitCode: 0, check: { reached: true, agrees: true } });
  });

  it('the forward policy drop of firewall-router: b cannot start a conversation with a; a can with b', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'firewall-router.yaml'));
    const t = await traced('firewall-router', 'b', 'a');
    expect(t.end).toEqual({ kind: 'dropped', node: 'router', direction: 'request', why: "dropped in chain forward (forward) by the chain's policy drop" });
    expect(t).toMatchObject({ reaches: false, exitCode: 0, check: { reached: false, agrees: true } });
    // nftables' own trace of the probe says the same, and its temporary chains are gone again.
    expect(t.check!.nft).toEqual([{ node: 'router', chain: 'forward', verdict: 'drop', explained: 'drop', agrees: true }]);
    const chains = await sb.ok(['nsenter', '--net=/run/netns/router', 'nft', 'list', 'table', 'inet', 'netlab-firewall-router']);
    expect(chains).not.toContain('netlab_trace');
    const allowed = await traced('firewall-router', 'a', 'b');
    expect(allowed.hops.find((h) => h.node === 'router' && h.direction === 'request')!.chains).toEqual([
      { chain: 'forward', hook: 'forward', type: 'filter', priority: 0, decision: 'accept', rule: 'iifname left oifname right meta l4proto icmp accept', handle: expect.any(Number) },
    ]);
    expect(allowed).toMatchObject({ reaches: true, exitCode: 0, check: { reached: true, agrees: true } });
  });

  it('exits 1 when the explanation and the probe disagree: a rule it cannot judge (a mark) is not guessed', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'firewall-router.yaml'));
    await sb.ok(['nsenter', '--net=/run/netns/router', 'nft', 'insert', 'rule', 'inet', 'netlab-firewall-router', 'forward', 'meta', 'mark', '7', 'drop']);
    const t = await traced('firewall-router', 'a', 'b');
    expect(t.end).toMatchObject({ kind: 'unknown', node: 'router' });
    expect(t.verdict).toContain('cannot tell');
    expect(t).toMatchObject({ reaches: false, exitCode: 1, check: { reached: true, agrees: false } });
    // What it could not tell, nftables' trace of the probe shows: the mark rule did not match.
    expect(t.check!.nft).toEqual([{ node: 'router', chain: 'forward', rule: 'iifname "left" oifname "right" meta l4proto icmp accept', verdict: 'accept', explained: 'unknown', agrees: true }]);
  });

  it('asymmetric routing: strict rp_filter on the router drops a source whose way back is another interface', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-trace-'));
    const file = join(dir, 'rp-asym.yaml');
    writeFileSync(
      file,
      [
        'name: rp-asym',
        'nodes:',
        '  a:',
        '    interfaces:',
        '      eth0: {addresses: [198.51.100.10/24]}',
        '      eth1: {addresses: [192.0.2.10/24]}',
        '    routes: [{to: 203.0.113.0/24, via: 198.51.100.1, src: 192.0.2.10}]   # out by eth0, from the address of eth1',
        '  r:',
        '    sysctls: {net.ipv4.ip_forward: 1, net.ipv4.conf.all.rp_filter: 1}',
        '    interfaces:',
        '      left: {addresses: [198.51.100.1/24]}',
        '      right: {addresses: [203.0.113.1/24]}',
        '    routes: [{to: 192.0.2.0/24, via: 203.0.113.10}]   # the way back to 192.0.2.10 is by right',
        '  b:',
        '    interfaces:',
        '      eth0: {addresses: [203.0.113.10/24]}',
        '      eth1: {addresses: [192.0.2.20/24]}',
        'links:',
        '  - [a:eth0, r:left]',
        '  - [r:right, b:eth0]',
        '  - [a:eth1, b:eth1]',
        '',
      ].join('\n'),
    );
    await sb.netlabOk('apply', file);
    const t = await traced(file, 'a', '203.0.113.10');
    expect(t.hops[1]).toMatchObject({ node: 'r', iif: 'left', src: '192.0.2.10', rpFilter: { mode: 1, reverseDev: 'right', passes: false } });
    expect(t.end).toEqual({ kind: 'dropped', node: 'r', direction: 'request', why: 'rp_filter (strict) drops it: the route back to 192.0.2.10 leaves by right, not left' });
    expect(t).toMatchObject({ reaches: false, exitCode: 0, check: { reached: false, agrees: true } });
  });

  it('blackhole and unreachable routes on a router, and the multipath route through one of two servers', async () => {
    await sb.netlabOk('apply', join(TOPOLOGIES, 'null-routes-ecmp.yaml'));
    const blackhole = await traced('null-routes-ecmp', 'a', '10.66.1.1');
    expect(blackhole.end).toMatchObject({ kind: 'dropped', node: 'r', why: 'a blackhole route swallows 10.66.1.1 (the kernel answers: invalid argument)' });
    expect(blackhole).toMatchObject({ exitCode: 0, check: { agrees: true } });
    const unreachable = await traced('null-routes-ecmp', 'a', '10.67.1.1');
    expect(unreachable.end.why).toBe('an unreachable route for 10.67.1.1 (the kernel answers: no route to host)');
    // From the router itself, ping cannot even send: the probe agrees with a drop where it starts.
    expect(await traced('null-routes-ecmp', 'r', '10.66.1.1')).toMatchObject({ exitCode: 0, check: { reached: false, agrees: true } });
    const ecmp = await traced('null-routes-ecmp', 'a', '10.70.0.1');
    expect(['s1', 's2']).toContain(ecmp.hops.filter((h) => h.direction === 'request').at(-1)!.node);
    expect(ecmp).toMatchObject({ reaches: true, exitCode: 0, check: { agrees: true } });
  });
});
