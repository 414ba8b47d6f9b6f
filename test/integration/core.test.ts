// The core engine against a real kernel, inside a sandbox: apply, traffic, idempotence, drift,
// conflicts, failures, destroy to nothing.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

const SEED_000 = join(TOPOLOGIES, 'seed-000-ns1-bridge.yaml');
const SEED_001 = join(TOPOLOGIES, 'seed-001-two-veths.yaml');

let sb: Sandbox;
const scratch = mkdtempSync(join(tmpdir(), 'netlab-core-'));

function labFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

useSandbox((s) => (sb = s));

describe('seed 000: ns1 on bridge lxcbr0', () => {
  it('applies, answers ping, plans clean, re-applies with no write, destroys to nothing', async () => {
    const applied = await sb.netlab('apply', SEED_000);
    expect(applied.stderr).toBe('');
    expect(applied.exitCode).toBe(0);
    expect(applied.stdout).toMatch(/verified against the kernel/);

    expect(await sb.ping('ns1', '192.168.10.1')).toBe(true);
    expect(await sb.ping('host', '192.168.10.11')).toBe(true);

    const port = (await sb.ipJson('host', ['-d', 'link', 'show', 'dev', 'lxcbr0.1']))[0]!;
    expect(port.master).toBe('lxcbr0');
    expect((port.linkinfo as { info_kind: string }).info_kind).toBe('veth');
    const bridge = (await sb.ipJson('host', ['-d', 'link', 'show', 'dev', 'lxcbr0']))[0]!;
    expect((bridge.linkinfo as { info_data: { stp_state: number } }).info_data.stp_state).toBe(0);
    const routes = await sb.ipJson('ns1', ['route', 'show', 'default']);
    expect(routes).toEqual([expect.objectContaining({ dst: 'default', gateway: '192.168.10.1', dev: 'eth0' })]);
    const lo = (await sb.ipJson('ns1', ['link', 'show', 'dev', 'lo']))[0]!;
    expect(lo.flags).toContain('UP');
    expect(lo.ifalias).toBe('netlab:seed-000');
    expect(await sb.ok(['cat', '/etc/netns/ns1/resolv.conf'])).toMatch(/^nameserver 192\.0\.2\.53$/m);
    // ip netns exec puts the lab's resolv.conf in place, as the seed relies on.
    expect(await sb.ok(['ip', 'netns', 'exec', 'ns1', 'cat', '/etc/resolv.conf'])).toMatch(/nameserver 192\.0\.2\.53/);

    expect((await sb.netlab('plan', '--detailed-exitcode', SEED_000)).exitCode).toBe(0);
    const again = await sb.netlab('apply', '-v', SEED_000);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/no changes, nothing written/);
    expect(again.stderr).toBe(''); // -v prints every command run: none

    const ls = await sb.netlab('ls', '--json');
    expect((JSON.parse(ls.stdout) as { labs: unknown }).labs).toEqual([expect.objectContaining({ lab: 'seed-000', nodes: { host: expect.anything(), ns1: expect.anything() } })]);

    const destroyed = await sb.netlab('destroy', SEED_000);
    expect(destroyed.exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('repairs drift: a deleted address, a deleted veth, an address and a route added by hand', async () => {
    await sb.netlabOk('apply', SEED_000);
    await sb.ok(['nsenter', '--net=/run/netns/ns1', 'ip', 'addr', 'del', '192.168.10.11/24', 'dev', 'eth0']);
    await sb.ok(['nsenter', '--net=/run/netns/host', 'ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'lxcbr0']);
    await sb.ok(['nsenter', '--net=/run/netns/host', 'ip', 'route', 'add', '10.98.0.0/16', 'via', '10.99.0.2']);
    expect(await sb.ping('ns1', '192.168.10.1')).toBe(false);

    const plan = await sb.netlab('plan', '--detailed-exitcode', SEED_000);
    expect(plan.exitCode).toBe(2);
    expect(plan.stdout).toMatch(/\+ address 192\.168\.10\.11\/24 on ns1:eth0/);
    expect(plan.stdout).toMatch(/- address 10\.99\.0\.1\/24 on host:lxcbr0 .*not in the file/);
    expect(plan.stdout).toMatch(/- route on host: 10\.98\.0\.0\/16/);

    await sb.netlabOk('apply', SEED_000);
    expect(await sb.ping('ns1', '192.168.10.1')).toBe(true);
    const bridgeAddrs = (await sb.ipJson('host', ['addr', 'show', 'dev', 'lxcbr0']))[0]!.addr_info as Array<{ local: string }>;
    expect(bridgeAddrs.map((a) => a.local)).not.toContain('10.99.0.1');

    // Deleting one end of a veth deletes the pair; apply makes it again, enslaved and routed.
    await sb.ok(['nsenter', '--net=/run/netns/host', 'ip', 'link', 'del', 'lxcbr0.1']);
    const replan = await sb.netlab('plan', SEED_000);
    expect(replan.stdout).toMatch(/\+ veth (ns1:eth0 <-> host:lxcbr0\.1|host:lxcbr0\.1 <-> ns1:eth0)/);
    await sb.netlabOk('apply', SEED_000);
    expect(await sb.ping('ns1', '192.168.10.1')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', SEED_000)).exitCode).toBe(0);
  });

  it('destroys by name without the file, and without the record', async () => {
    await sb.netlabOk('apply', SEED_000);
    await sb.ok(['rm', '-rf', '/run/netlab/seed-000']);
    const destroyed = await sb.netlab('destroy', 'seed-000');
    expect(destroyed.exitCode).toBe(0);
    expect(destroyed.stdout).toMatch(/netns ns1/);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('seed 001: two veths in one /16', () => {
  it('reaches the first namespace and not the second, as the seed shows', async () => {
    await sb.netlabOk('apply', SEED_001);
    expect(await sb.ping('host', '172.18.0.10')).toBe(true);
    expect(await sb.ping('host', '172.18.0.20')).toBe(false);
    // The kernel made one route per veth for the same subnet: that is the bug the seed shows.
    const routes = await sb.ipJson('host', ['route', 'show', '172.18.0.0/16']);
    expect(routes.map((r) => r.dev)).toEqual(['veth0', 'veth1']);
    expect((await sb.netlab('plan', '--detailed-exitcode', SEED_001)).exitCode).toBe(0);
    await sb.netlabOk('destroy', 'seed-001-two-veths');
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('more of the format', () => {
  const lab = `
name: features
prefix: t-
nodes:
  r:
    sysctls:
      net.ipv4.ip_forward: 1
      net.ipv6.conf.all.forwarding: 1
    bridges:
      br0: {addresses: [198.51.100.1/24, "2001:db8:1::1/64"], mtu: 1400}
      quiet: {stp: true}   # STP holds a port 30 s before forwarding: no traffic crosses this one
    interfaces:
      up0: {addresses: [203.0.113.1/24, "2001:db8:2::1/64"], mac: "02:00:00:00:00:01"}
  a:
    interfaces:
      eth0: {addresses: [198.51.100.10/24, "2001:db8:1::10/64"], mtu: 1400}
    routes:
      - {to: default, via: 198.51.100.1}
      - {to: default, via: "2001:db8:1::1"}
  b:
    interfaces:
      eth0: {addresses: [203.0.113.2/24, "2001:db8:2::2/64"]}
    routes:
      - {to: 198.51.100.0/24, via: 203.0.113.1, metric: 50}
      - {to: "2001:db8:1::/64", via: "2001:db8:2::1"}
links:
  - [a:eth0, r:br0]
  - {endpoints: [r:up0, b:eth0], mtu: 9000}
`;

  it('routes v4 and v6 through a router namespace with forwarding sysctls, mtu, mac, stp, metric', async () => {
    const file = labFile('features.yaml', lab);
    const applied = await sb.netlab('apply', file);
    expect(applied.stderr).toBe('');
    expect(applied.exitCode).toBe(0);

    expect(await sb.ping('t-a', '203.0.113.2')).toBe(true);
    expect(await sb.ping('t-a', '2001:db8:2::2')).toBe(true);
    expect(await sb.ping('t-b', '2001:db8:1::10')).toBe(true);

    expect((await sb.inNs('t-r', ['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
    const [up0] = await sb.ipJson('t-r', ['link', 'show', 'dev', 'up0']);
    expect(up0).toMatchObject({ mtu: 9000, address: '02:00:00:00:00:01' });
    const [port] = await sb.ipJson('t-r', ['link', 'show', 'dev', 'a-eth0']);
    expect(port).toMatchObject({ master: 'br0' });
    const [br0] = await sb.ipJson('t-r', ['-d', 'link', 'show', 'dev', 'br0']);
    expect(br0).toMatchObject({ mtu: 1400, linkinfo: { info_data: expect.objectContaining({ stp_state: 0 }) } });
    const [quiet] = await sb.ipJson('t-r', ['-d', 'link', 'show', 'dev', 'quiet']);
    expect(quiet).toMatchObject({ linkinfo: { info_data: expect.objectContaining({ stp_state: 1 }) } });
    const bRoutes = await sb.ipJson('t-b', ['route', 'show', '198.51.100.0/24']);
    expect(bRoutes).toEqual([expect.objectContaining({ gateway: '203.0.113.1', metric: 50 })]);
    const aV6 = await sb.ipJson('t-a', ['-6', 'route', 'show', 'default']);
    expect(aV6).toEqual([expect.objectContaining({ gateway: '2001:db8:1::1' })]);

    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // The file changes: an address moves, a route and a sysctl go, a node goes.
    const smaller = labFile(
      'features2.yaml',
      lab
        .replace('203.0.113.2/24', '203.0.113.3/24')
        .replace(/\n {6}net\.ipv6\.conf\.all\.forwarding: 1/, '')
        .replace(/ {6}- \{to: "2001:db8:1::\/64", via: "2001:db8:2::1"\}\n/, ''),
    );
    const replan = await sb.netlab('plan', '--json', smaller);
    const changes = (JSON.parse(replan.stdout) as { changes: Array<{ id: string; action: string }> }).changes;
    expect(changes.map((c) => `${c.action} ${c.id}`)).toEqual([
      'delete address/b:eth0/203.0.113.2/24',
      'create address/b:eth0/203.0.113.3/24',
      // The kernel drops a route whose gateway an address change made unreachable: set again.
      'update route/b/inet 198.51.100.0/24 metric 50',
      'delete route/b/inet6 2001:db8:1::/64 metric 1024',
    ]);
    await sb.netlabOk('apply', smaller);
    expect(await sb.ping('t-a', '203.0.113.3')).toBe(true);

    await sb.netlabOk('destroy', 'features');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('deletes a node removed from the file, with the veth ends that led to it', async () => {
    const two = labFile('two.yaml', 'name: shrink\nnodes:\n  a: {}\n  b: {}\n  c: {}\nlinks:\n  - [a:e1, b:e1]\n  - [a:e2, c:e1]\n');
    await sb.netlabOk('apply', two);
    const one = labFile('one.yaml', 'name: shrink\nnodes:\n  a: {}\n  b: {}\nlinks:\n  - [a:e1, b:e1]\n');
    const applied = await sb.netlab('apply', one);
    expect(applied.exitCode).toBe(0);
    expect(applied.stdout).toMatch(/- netns c/);
    expect((await sb.ipJson('a', ['link', 'show'])).map((l) => l.ifname)).toEqual(['lo', 'e1']);
    await sb.netlabOk('destroy', one);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('ownership and failures', () => {
  it('refuses to apply over a namespace it does not own, and changes nothing', async () => {
    await sb.ok(['ip', 'netns', 'add', 'ns1']);
    const applied = await sb.netlab('apply', SEED_000);
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toMatch(/namespace ns1 already exists and belongs to something other than netlab/);
    expect((await sb.ok(['ls', '/run/netns'])).trim()).toBe('ns1');
    const plan = await sb.netlab('plan', SEED_000);
    expect(plan.stdout).toMatch(/! conflict on ns1/);
    // destroy leaves what is not the lab's alone
    await sb.netlabOk('destroy', SEED_000);
    expect((await sb.ok(['ls', '/run/netns'])).trim()).toBe('ns1');
    await sb.ok(['ip', 'netns', 'del', 'ns1']);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('reports a failing kernel command with the command and its stderr, skips its dependents, converges on re-run', async () => {
    // The kernel has no such sysctl: apply fails on it, everything else is done.
    const file = labFile('bad-sysctl.yaml', 'name: badsys\nnodes:\n  a:\n    sysctls: {net.ipv4.no_such_key: 1}\n  b: {}\nlinks:\n  - [a:eth0, b:eth0]\n');
    const applied = await sb.netlab('apply', file);
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toMatch(/sysctl on a: net\.ipv4\.no_such_key = 1/);
    expect(applied.stderr).toMatch(/command: nsenter --net=\/run\/netns\/a sysctl -q (-w )?net\.ipv4\.no_such_key=1/);
    expect(applied.stderr).toMatch(/no_such_key/);
    expect(applied.stderr).toMatch(/hint: no such sysctl in this kernel/);
    expect((await sb.ipJson('b', ['link', 'show', 'dev', 'eth0']))[0]!.flags).toContain('UP');
    // What the file can get converges once the file is fixed; destroy finds everything.
    const fixed = labFile('bad-sysctl.yaml', 'name: badsys\nnodes:\n  a:\n    sysctls: {net.ipv4.ip_forward: 1}\n  b: {}\nlinks:\n  - [a:eth0, b:eth0]\n');
    await sb.netlabOk('apply', fixed);
    await sb.netlabOk('destroy', 'badsys');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('rejects a broken file with exit 65 and file:line:col, creating nothing', async () => {
    const file = labFile('broken.yaml', 'name: broken\nnodes:\n  a: {}\nlinks:\n  - [a:eth0, c9:eth0]\n');
    const applied = await sb.netlab('apply', file);
    expect(applied.exitCode).toBe(65);
    expect(applied.stderr).toMatch(/broken\.yaml:5:\d+: error: .*c9/);
    expect(await sb.leftovers()).toEqual([]);
  });
});
