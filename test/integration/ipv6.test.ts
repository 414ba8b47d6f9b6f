// IPv6 link-local on the interfaces a lab makes: off by default in a lab without IPv6 (no
// chatter on the bridge), on in one with IPv6 or with `ipv6: true`, and switched either way on
// a live lab. Proved by the kernel's own JSON and by traffic.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));
const scratch = mkdtempSync(join(tmpdir(), 'netlab-ipv6-'));

/** Two namespaces on a bridge in a third; `extra` goes at the top level. */
function lab(name: string, extra = '', c1Address = '198.51.100.20/24'): string {
  const path = join(scratch, `${name}.yaml`);
  writeFileSync(
    path,
    [
      'name: ll',
      extra,
      'nodes:',
      '  sw: {bridges: {br0: {addresses: [198.51.100.1/24]}}}',
      '  c0: {interfaces: {eth0: {addresses: [198.51.100.10/24]}}}',
      `  c1: {interfaces: {eth0: {addresses: ["${c1Address}"]}}}`,
      'links: [[c0:eth0, sw:br0], [c1:eth0, sw:br0]]',
      '',
    ].join('\n'),
  );
  return path;
}

interface Link {
  ifname: string;
  inet6_addr_gen_mode?: string;
}
interface Addr {
  ifname: string;
  addr_info: Array<{ family: string; local: string; scope: string }>;
}

/** Per made interface: its addrgenmode and whether it has a link-local address. */
async function linkLocalState(): Promise<string[]> {
  const out: string[] = [];
  for (const ns of ['c0', 'c1', 'sw']) {
    const links = await sb.ipJson<Link[]>(ns, ['-d', 'link', 'show']);
    const addrs = await sb.ipJson<Addr[]>(ns, ['addr', 'show']);
    for (const l of links.filter((x) => x.ifname !== 'lo')) {
      const fe80 = addrs.find((a) => a.ifname === l.ifname)!.addr_info.some((a) => a.family === 'inet6' && a.scope === 'link');
      out.push(`${ns}:${l.ifname} ${l.inet6_addr_gen_mode} ${fe80 ? 'fe80' : '-'}`);
    }
  }
  return out.sort();
}

/**
 * linkLocalState once it equals `want`, or as it is after 3 s. A link-local address comes when the
 * kernel's link watcher sees the link's carrier; apply waits for one end of each pair, and the
 * other end's event follows in the same or the next pass.
 */
async function settledLinkLocal(want: string[]): Promise<string[]> {
  const deadline = Date.now() + 3000;
  let state = await linkLocalState();
  while (JSON.stringify(state) !== JSON.stringify(want) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    state = await linkLocalState();
  }
  return state;
}

const ON = ['c0:eth0 eui64 fe80', 'c1:eth0 eui64 fe80', 'sw:br0 eui64 fe80', 'sw:c0-eth0 eui64 fe80', 'sw:c1-eth0 eui64 fe80'];
const OFF = ['c0:eth0 none -', 'c1:eth0 none -', 'sw:br0 none -', 'sw:c0-eth0 none -', 'sw:c1-eth0 none -'];

const planText = async (file: string) => (await sb.netlab('plan', file)).stdout;

describe('IPv6 link-local', () => {
  it('is off on every interface of a lab without IPv6; IPv4 works; turning it on makes the links again; off again flushes in place', async () => {
    const file = lab('v4');
    await sb.netlabOk('apply', file);
    expect(await linkLocalState()).toEqual(OFF);
    expect(await sb.ping('c0', '198.51.100.20')).toBe(true);
    // IPv6 itself is not off: the loopback answers.
    expect(await sb.ping('c0', '::1')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // ipv6: true — the pairs and the bridge are made again, as the plan says, and get link-local addresses.
    const on = lab('on', 'ipv6: true');
    const plan = await planText(on);
    expect(plan).toMatch(/eth0 has link-local IPv6 off, the file wants it on/);
    expect(plan).toMatch(/br0 has link-local IPv6 off/);
    await sb.netlabOk('apply', on);
    expect(await settledLinkLocal(ON)).toEqual(ON);
    expect((await sb.netlab('plan', '--detailed-exitcode', on)).exitCode).toBe(0);
    expect(await sb.ping('c0', '198.51.100.20')).toBe(true);
    // Link-local traffic across the bridge, once duplicate address detection has let c1's address go.
    const c1 = (await sb.ipJson<Addr[]>('c1', ['addr', 'show', 'dev', 'eth0']))[0]!.addr_info.find((a) => a.scope === 'link')!.local;
    expect(await sb.ping('c0', `${c1}%eth0`, 5)).toBe(true);

    // Back to the default: off in place (addrgenmode none, link-local flushed), no link made again.
    const off = await planText(file);
    expect(off).not.toMatch(/- link |\+ veth|\+ bridge/);
    expect(off).toMatch(/link-local IPv6 on → link-local IPv6 off/);
    await sb.netlabOk('apply', file);
    expect(await linkLocalState()).toEqual(OFF);
    expect(await sb.ping('c0', '198.51.100.20')).toBe(true);

    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('is on by default in a lab with an IPv6 address, whose global IPv6 works; ipv6: false leaves it off and IPv6 still works', async () => {
    const file = lab('v6', '', '2001:db8::20/64');
    // c0 needs an IPv6 address too, to reach c1 over IPv6.
    writeFileSync(file, readFileSync(file, 'utf8').replace('198.51.100.10/24]', '198.51.100.10/24, "2001:db8::10/64"]'));
    await sb.netlabOk('apply', file);
    expect(await settledLinkLocal(ON)).toEqual(ON);
    expect(await sb.ping('c0', '2001:db8::20', 5)).toBe(true);
    await sb.netlabOk('destroy', file);

    const off = join(scratch, 'off.yaml');
    writeFileSync(off, `ipv6: false\n${readFileSync(file, 'utf8')}`);
    await sb.netlabOk('apply', off);
    expect(await linkLocalState()).toEqual(OFF);
    expect(await sb.ping('c0', '2001:db8::20', 5)).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', off)).exitCode).toBe(0);
    await sb.netlabOk('destroy', off);
    expect(await sb.leftovers()).toEqual([]);
  });
});

/**
 * a — r1 — r2 — b: r1 a namespace of its own, r2 the sandbox's root namespace (a `host` node: the
 * lab makes its interfaces there, but the namespace is not the lab's). Each router forwards out of
 * a veth one way and out of a bridge the other, so every kind of link the lab makes is on the path.
 */
function routedLab(extra = ''): string {
  const path = join(scratch, 'routed.yaml');
  writeFileSync(
    path,
    [
      'name: r6',
      extra,
      'nodes:',
      '  a: {interfaces: {eth0: {addresses: ["2001:db8:a::10/64"]}}, routes: [{to: default, via: "2001:db8:a::1"}]}',
      '  r1:',
      '    sysctls: {net.ipv6.conf.all.forwarding: 1}',
      '    interfaces: {nl-a: {addresses: ["2001:db8:a::1/64"]}}',
      '    bridges: {nl-br1: {addresses: ["2001:db8:c::1/64"]}}',
      '    routes: [{to: "2001:db8:b::/64", via: "2001:db8:c::2"}]',
      '  r2:',
      '    kind: host',
      '    sysctls: {net.ipv6.conf.all.forwarding: 1}',
      '    interfaces: {nl-r1: {addresses: ["2001:db8:c::2/64"]}}',
      '    bridges: {nl-br2: {addresses: ["2001:db8:b::1/64"]}}',
      '    routes: [{to: "2001:db8:a::/64", via: "2001:db8:c::1"}]',
      '  b: {interfaces: {eth0: {addresses: ["2001:db8:b::10/64"]}}, routes: [{to: default, via: "2001:db8:b::1"}]}',
      'links: [[a:eth0, r1:nl-a], [r2:nl-r1, r1:nl-br1], [b:eth0, r2:nl-br2]]',
      '',
    ].join('\n'),
  );
  return path;
}

/** One echo, one second: the first packet across the routers must get through, not a retry. */
async function firstPing(from: string, address: string): Promise<boolean> {
  return (await sb.inNs(from, ['ping', '-c', '1', '-W', '1', address])).exitCode === 0;
}

describe('routed IPv6 right after apply', () => {
  it('passes the first ping across two routers as soon as apply returns, every time', async () => {
    const file = routedLab();
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      await sb.netlabOk('apply', file);
      outcomes.push(`${i}: a→b ${(await firstPing('a', '2001:db8:b::10')) ? 'ok' : 'lost'}, b→a ${(await firstPing('b', '2001:db8:a::10')) ? 'ok' : 'lost'}`);
      await sb.netlabOk('destroy', file);
    }
    expect(outcomes).toEqual(Array.from({ length: 10 }, (_, i) => `${i}: a→b ok, b→a ok`));
    expect(await sb.leftovers()).toEqual([]);
  });

  it('with ipv6: false, is warned of by apply and does not pass, as the docs say; neighbours still reach each other', async () => {
    const file = routedLab('ipv6: false');
    const applied = await sb.netlabOk('apply', file);
    expect(applied.stderr).toMatch(/warning: ipv6: false leaves the lab's links without link-local addresses, so node r1 .* cannot forward IPv6/);
    expect(await sb.ping('a', '2001:db8:a::1')).toBe(true);
    // The limit the warning names: r1 has no link-local address to solicit b's side from.
    expect(await sb.ping('a', '2001:db8:b::10', 2)).toBe(false);
    await sb.netlabOk('destroy', file);
  });
});

describe('what the kernel learns from router advertisements', () => {
  it('is not drift: the SLAAC address and the RA default route are kept by plan and by a second apply', async () => {
    const file = join(TOPOLOGIES, 'ipv6-slaac.yaml');
    await sb.netlabOk('apply', file);
    type Route = { dst: string; protocol: string };
    type Addr = { addr_info: Array<{ local: string; dynamic?: boolean }> };
    const learned = async () => ({
      routes: (await sb.ipJson<Route[]>('h', ['-6', 'route', 'show'])).filter((r) => r.protocol === 'ra').map((r) => r.dst),
      addresses: (await sb.ipJson<Addr[]>('h', ['addr', 'show', 'dev', 'eth0']))[0]!.addr_info.filter((a) => a.dynamic).map((a) => a.local),
    });
    // radvd advertises every 3-4 s; the host's address waits for its duplicate detection.
    let seen = await learned();
    for (let i = 0; i < 100 && (seen.routes.length === 0 || seen.addresses.length === 0); i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await learned();
    }
    expect(seen.routes).toContain('default');
    expect(seen.addresses.every((a) => a.startsWith('2001:db8:1:'))).toBe(true);
    expect(seen.addresses).toHaveLength(1);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    const again = await sb.netlabOk('apply', file);
    expect(again.stdout).toMatch(/no changes/i);
    expect(await learned()).toEqual(seen);
    expect(await sb.ping('h', '2001:db8:2::2')).toBe(true);
    await sb.netlabOk('destroy', file);
  });
});
