// The root namespace shared: with the user's own objects (an nftables table under the lab's
// table name, interfaces with their own forwarding), and with other labs (an address one lab adds
// to another's bridge, a sysctl two labs set). Each lab changes and takes back only its own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));
const scratch = mkdtempSync(join(tmpdir(), 'netlab-shared-host-'));

afterEach(async () => {
  await sb.run(['sh', '-c', 'nft flush ruleset; for l in br-a fx0; do ip link del $l; done 2>/dev/null; true']);
});

function labFile(name: string, text: string): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function sysctl(key: string): Promise<string> {
  return (await sb.ok(['sysctl', '-n', key])).trim();
}

async function addresses(dev: string): Promise<string[]> {
  const [link] = JSON.parse(await sb.ok(['ip', '-j', 'addr', 'show', 'dev', dev])) as Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
  return link!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`).sort();
}

describe("a table under the lab's name that the lab did not make", () => {
  const file = () =>
    labFile(
      'ft',
      `
name: ft
nodes:
  root:
    kind: host
    nat: [{type: masquerade, source: 198.51.100.0/24}]
`,
    );

  it('is a conflict for plan and apply, and destroy leaves it', async () => {
    await sb.ok(['sh', '-c', 'nft add table inet netlab-ft && nft add chain inet netlab-ft mine && nft add rule inet netlab-ft mine counter']);
    const before = await sb.ok(['nft', 'list', 'table', 'inet', 'netlab-ft']);

    const plan = await sb.netlab('plan', file());
    expect(plan.exitCode).not.toBe(0);
    expect(plan.stdout + plan.stderr).toMatch(/table inet netlab-ft in node root already exists and is not the lab's .*nft delete table inet netlab-ft/);
    const applied = await sb.netlab('apply', file());
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toMatch(/table inet netlab-ft in node root already exists and is not the lab's/);
    expect(await sb.ok(['nft', 'list', 'table', 'inet', 'netlab-ft'])).toBe(before);

    await sb.netlab('destroy', 'ft');
    expect(await sb.ok(['nft', 'list', 'table', 'inet', 'netlab-ft'])).toBe(before);
  });

  it("the lab's own table carries its mark, so destroy without the record takes it, even with no rules", async () => {
    const empty = labFile('fe', 'name: fe\nnodes:\n  root:\n    kind: host\n    firewall: {forward: {policy: accept}}\n');
    await sb.netlabOk('apply', empty);
    expect(await sb.ok(['nft', 'list', 'table', 'inet', 'netlab-fe'])).toMatch(/comment "netlab:fe"/);
    expect((await sb.netlab('plan', '--detailed-exitcode', empty)).exitCode).toBe(0);
    await sb.ok(['rm', '/run/netlab/fe/record.json']);
    await sb.netlabOk('destroy', 'fe');
    expect((await sb.ok(['nft', 'list', 'tables'])).trim()).toBe('');
  });
});

describe('two labs on one interface', () => {
  const labA = `
name: la
nodes:
  root:
    kind: host
    bridges: {br-a: {addresses: [10.5.0.254/24]}}
`;
  const labB = `
name: lb
nodes:
  root:
    kind: host
    interfaces:
      br-a: {addresses: [10.5.0.1/24]}
    routes: [{to: 10.6.0.0/16, via: 10.5.0.9}]
`;

  it("each lab's objects are its own: neither plan sees the other's as drift, destroy takes only its own", async () => {
    const a = labFile('la', labA);
    const b = labFile('lb', labB);
    await sb.netlabOk('apply', a);
    await sb.netlabOk('apply', b);
    expect(await addresses('br-a')).toEqual(['10.5.0.1/24', '10.5.0.254/24']);

    const planA = await sb.netlab('plan', '--detailed-exitcode', a);
    expect(planA.stdout).not.toMatch(/10\.5\.0\.1|10\.6\.0\.0/);
    expect(planA.exitCode).toBe(0);
    expect((await sb.netlab('plan', '--detailed-exitcode', b)).exitCode).toBe(0);
    expect((await sb.netlabOk('apply', a)).stdout).not.toMatch(/10\.5\.0\.1/);
    expect((await sb.netlabOk('apply', b)).stdout).not.toMatch(/10\.5\.0\.254/);
    expect(await addresses('br-a')).toEqual(['10.5.0.1/24', '10.5.0.254/24']);

    await sb.netlabOk('destroy', 'lb');
    expect(await addresses('br-a')).toEqual(['10.5.0.254/24']);
    expect((await sb.ok(['ip', 'route', 'show', '10.6.0.0/16'])).trim()).toBe('');
    await sb.netlabOk('destroy', 'la');
    expect((await sb.run(['ip', 'link', 'show', 'br-a'])).exitCode).not.toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it("an address another lab has is a conflict, named with that lab", async () => {
    await sb.netlabOk('apply', labFile('la', labA));
    await sb.netlabOk('apply', labFile('lb', labB));
    const same = labFile('lc', labB.replace('name: lb', 'name: lc').replace(/routes:.*\n/, ''));
    const plan = await sb.netlab('plan', same);
    expect(plan.exitCode).not.toBe(0);
    expect(plan.stdout + plan.stderr).toMatch(/address 10\.5\.0\.1\/24 on root:br-a is lab lb's/);
  });
});

describe('a sysctl two labs set in the root namespace', () => {
  const lab = (name: string, value: number) => labFile(name, `name: ${name}\nnodes:\n  root:\n    kind: host\n    sysctls: {net.ipv4.conf.all.rp_filter: ${value}}\n`);

  for (const order of [
    ['sa', 'sb'],
    ['sb', 'sa'],
  ]) {
    it(`is the machine's own again after destroy ${order.join(' then ')}`, async () => {
      await sb.ok(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1']);
      await sb.netlabOk('apply', lab('sa', 2));
      expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('2');
      await sb.netlabOk('apply', lab('sb', 0));
      expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('0');
      await sb.netlabOk('destroy', order[0]!);
      await sb.netlabOk('destroy', order[1]!);
      expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('1');
    });
  }

  it("a lab that finds the value it wants already set by another still holds the key", async () => {
    await sb.ok(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1']);
    await sb.netlabOk('apply', lab('sa', 2));
    await sb.netlabOk('apply', lab('sb', 2));
    await sb.netlabOk('destroy', 'sa');
    expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('2');
    expect((await sb.netlab('plan', '--detailed-exitcode', lab('sb', 2))).exitCode).toBe(0);
    await sb.netlabOk('destroy', 'sb');
    expect(await sysctl('net.ipv4.conf.all.rp_filter')).toBe('1');
  });
});

describe('forwarding put back', () => {
  it("keeps a foreign interface's own forwarding when ip_forward and all.forwarding go back", async () => {
    await sb.ok(['sh', '-c', 'ip link add fx0 type veth peer name fx1 && sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 net.ipv4.conf.fx0.forwarding=1 net.ipv6.conf.fx0.forwarding=1']);
    const file = labFile('fw', 'name: fw\nnodes:\n  root:\n    kind: host\n    sysctls: {net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1}\n');
    await sb.netlabOk('apply', file);
    expect(await sysctl('net.ipv4.conf.fx1.forwarding')).toBe('1');
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    await sb.netlabOk('destroy', 'fw');
    expect(await sysctl('net.ipv4.ip_forward')).toBe('0');
    expect(await sysctl('net.ipv6.conf.all.forwarding')).toBe('0');
    expect(await sysctl('net.ipv4.conf.fx0.forwarding')).toBe('1');
    expect(await sysctl('net.ipv6.conf.fx0.forwarding')).toBe('1');
    expect(await sysctl('net.ipv4.conf.fx1.forwarding')).toBe('0');
    expect(await sysctl('net.ipv6.conf.fx1.forwarding')).toBe('0');
  });
});
