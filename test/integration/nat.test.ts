// NAT and firewall with nftables, proven with traffic: the seed 001 walkthrough end to end, and a
// router whose forward policy is drop, over IPv4 and IPv6.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

const SEED_NAT = join(TOPOLOGIES, 'seed-001-nat.yaml');
const ROUTER = join(TOPOLOGIES, 'firewall-router.yaml');

let sb: Sandbox;
useSandbox((s) => (sb = s));

/** A TCP listener in `netns` that answers each connection with one line, for as long as the test runs. */
async function serve(netns: string, port: number, reply: string[]): Promise<void> {
  // socat's SYSTEM reply is a fixed string from the test, never user input.
  await sb.ok(['sh', '-c', `nsenter --net=/run/netns/${netns} socat TCP-LISTEN:${port},reuseaddr,fork SYSTEM:'${reply.join(' ')}' >/dev/null 2>&1 &`]);
  await sb.ok(['sh', '-c', `for i in $(seq 50); do nsenter --net=/run/netns/${netns} ss -ltn | grep -q ':${port} ' && exit 0; sleep 0.1; done; exit 1`]);
}

async function connect(netns: string, target: string): Promise<string> {
  const r = await sb.inNs(netns, ['socat', '-T', '3', '-', `TCP:${target},connect-timeout=3`]);
  return r.exitCode === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`;
}

async function ruleHandles(netns: string, table: string, chain: string): Promise<number[]> {
  const out = await sb.ok(['nsenter', `--net=/run/netns/${netns}`, 'nft', '-j', 'list', 'chain', 'inet', table, chain]);
  return (JSON.parse(out) as { nftables: Array<{ rule?: { handle: number } }> }).nftables.flatMap((o) => (o.rule ? [o.rule.handle] : []));
}

describe('seed 001 with NAT', () => {
  it('pings across the bridge and out through the masquerade, publishes a port, from outside and from the host', async () => {
    const applied = await sb.netlab('apply', SEED_NAT);
    expect(applied.stderr).toBe('');
    expect(applied.exitCode).toBe(0);

    expect(await sb.ping('netns0', '172.18.0.20')).toBe(true);
    expect(await sb.ping('netns0', '198.51.100.1')).toBe(true);
    expect(await sb.ping('internet', '172.18.0.10', 1)).toBe(false);

    // The internet side sees the host's address, not the container's.
    await serve('internet', 7000, ['echo', '$SOCAT_PEERADDR']);
    expect(await connect('netns0', '198.51.100.1:7000')).toBe('198.51.100.100');

    // The published port, from the internet (PREROUTING) and from the host itself (OUTPUT).
    await serve('netns0', 11211, ['echo', 'memcached-in-netns0']);
    expect(await connect('internet', '198.51.100.100:1234')).toBe('memcached-in-netns0');
    expect(await connect('host', '198.51.100.100:1234')).toBe('memcached-in-netns0');

    // The table the kernel holds, read back as JSON.
    const table = JSON.parse(await sb.ok(['nsenter', '--net=/run/netns/host', 'nft', '-j', 'list', 'table', 'inet', 'netlab-seed-001-nat'])) as {
      nftables: Array<{ chain?: { name: string; hook: string }; rule?: { chain: string; comment: string } }>;
    };
    expect(table.nftables.flatMap((o) => (o.chain ? [`${o.chain.name}:${o.chain.hook}`] : []))).toEqual([
      'nat_prerouting:prerouting',
      'nat_output:output',
      'nat_postrouting:postrouting',
    ]);
    expect(table.nftables.filter((o) => o.rule).every((o) => o.rule!.comment.startsWith('netlab:'))).toBe(true);

    const again = await sb.netlab('apply', '-v', SEED_NAT);
    expect(again.stdout).toMatch(/no changes, nothing written/);
    expect(again.stderr).toBe('');
  });

  it('shows a rule deleted by hand as drift and restores it; leaves other tables alone; destroys everything', async () => {
    await sb.netlabOk('apply', SEED_NAT);
    await sb.ok(['nsenter', '--net=/run/netns/host', 'nft', 'add', 'table', 'inet', 'mine']);
    const [masquerade] = await ruleHandles('host', 'netlab-seed-001-nat', 'nat_postrouting');
    await sb.ok(['nsenter', '--net=/run/netns/host', 'nft', 'delete', 'rule', 'inet', 'netlab-seed-001-nat', 'nat_postrouting', 'handle', String(masquerade)]);
    await serve('internet', 7000, ['echo', '$SOCAT_PEERADDR']);
    expect(await connect('netns0', '198.51.100.1:7000')).not.toBe('198.51.100.100');

    const plan = await sb.netlab('plan', '--detailed-exitcode', SEED_NAT);
    expect(plan.exitCode).toBe(2);
    expect(plan.stdout).toMatch(/~ nftables table inet netlab-seed-001-nat on host/);
    expect(plan.stdout).toMatch(/\+ rule in nat_postrouting: ip saddr 172\.18\.0\.0\/16 oifname != "br0" masquerade +rule missing/);

    await sb.netlabOk('apply', SEED_NAT);
    expect(await connect('netns0', '198.51.100.1:7000')).toBe('198.51.100.100');
    // Someone else's table in the lab's namespace is not the lab's business.
    expect(await sb.ok(['nsenter', '--net=/run/netns/host', 'nft', 'list', 'tables'])).toMatch(/table inet mine/);

    // A rule edited by hand that keeps its comment is drift too.
    const [dnat] = await ruleHandles('host', 'netlab-seed-001-nat', 'nat_prerouting');
    await sb.ok([
      'nsenter', '--net=/run/netns/host', 'nft', 'replace', 'rule', 'inet', 'netlab-seed-001-nat', 'nat_prerouting', 'handle', String(dnat),
      'iifname', 'eth0', 'tcp', 'dport', '4321', 'dnat', 'ip', 'to', '172.18.0.10:11211', 'comment', '"netlab:ignored"',
    ]);
    const drift = await sb.netlab('plan', '--detailed-exitcode', SEED_NAT);
    expect(drift.exitCode).toBe(2);
    await sb.netlabOk('apply', SEED_NAT);
    expect((await sb.netlab('plan', '--detailed-exitcode', SEED_NAT)).exitCode).toBe(0);

    await sb.netlabOk('destroy', 'seed-001-nat');
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('without nft', () => {
  it('says which package to install, before changing anything', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'netlab-path-'));
    for (const tool of ['ip', 'nsenter', 'sysctl', 'xargs', 'flock']) {
      const found = (await sb.ok(['sh', '-c', `command -v ${tool}`])).trim();
      symlinkSync(found, join(bin, tool));
    }
    const r = await sb.run([process.execPath, CLI, 'apply', SEED_NAT], { env: { PATH: bin } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nft not found on PATH — install with: apt-get install -y nftables/);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('a router with a forward policy of drop', () => {
  it('passes what the rules accept and drops the rest, over IPv4 and IPv6', async () => {
    await sb.netlabOk('apply', ROUTER);
    expect(await sb.ping('a', '203.0.113.10')).toBe(true);
    expect(await sb.ping('a', '2001:db8:b::10')).toBe(true);
    expect(await sb.ping('b', '198.51.100.10', 1)).toBe(false);
    expect(await sb.ping('b', '2001:db8:a::10', 1)).toBe(false);
    // Both sides still reach the router itself: input is not filtered.
    expect(await sb.ping('b', '203.0.113.1')).toBe(true);
    // The reject rule answers at once instead of timing out.
    const ssh = await sb.inNs('a', ['socat', '-T', '2', '-', 'TCP:203.0.113.10:22,connect-timeout=2']);
    expect(ssh.stderr).toMatch(/Connection refused/);

    const forward = JSON.parse(await sb.ok(['nsenter', '--net=/run/netns/router', 'nft', '-j', 'list', 'chain', 'inet', 'netlab-firewall-router', 'forward'])) as {
      nftables: Array<{ chain?: { policy: string } }>;
    };
    expect(forward.nftables.find((o) => o.chain)!.chain!.policy).toBe('drop');
    expect((await sb.netlab('plan', '--detailed-exitcode', ROUTER)).exitCode).toBe(0);
  });

  it('removes the table when the file drops its firewall, and keeps the namespace', async () => {
    await sb.netlabOk('apply', ROUTER);
    const open = join(mkdtempSync(join(tmpdir(), 'netlab-nat-')), 'open-router.yaml');
    writeFileSync(open, readFileSync(ROUTER, 'utf8').replace(/ {4}firewall:\n(?: {6,}.*\n)+/, ''));
    const plan = await sb.netlab('plan', open);
    expect(plan.stdout).toMatch(/- nftables table inet netlab-firewall-router on router/);
    await sb.netlabOk('apply', open);
    expect(await sb.ping('b', '198.51.100.10')).toBe(true);
    expect(await sb.ok(['nsenter', '--net=/run/netns/router', 'nft', 'list', 'tables'])).toBe('');
    await sb.netlabOk('destroy', 'firewall-router');
    expect(await sb.leftovers()).toEqual([]);
  });
});
