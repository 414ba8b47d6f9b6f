// Routes beyond a gateway: null routes and their kin, multipath, another table, onlink, src,
// against a real kernel. Router r holds the typed routes; a's pings show what each does.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = `name: routekinds
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.10/24, 198.51.100.11/24]}
    routes:
      - {to: default, via: 198.51.100.1}
      - {to: 192.0.2.0/24, dev: eth0, src: 198.51.100.11}
  r:
    sysctls: {net.ipv4.ip_forward: 1}
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
      eth1: {addresses: [203.0.113.1/29]}
      eth2: {addresses: [203.0.113.9/29]}
    tables: {spare: 200}
    routes:
      - {to: 10.66.0.0/16, type: blackhole}
      - {to: 10.67.0.0/16, type: unreachable}
      - {to: 10.68.0.0/16, type: prohibit}
      - {to: 10.69.0.0/16, via: 203.0.113.2, table: spare}
      - {to: 10.70.0.0/16, nexthops: [{via: 203.0.113.2, weight: 1}, {via: 203.0.113.10, dev: eth2, weight: 3}]}
  s1:
    interfaces:
      eth0: {addresses: [203.0.113.2/29, 10.70.0.1/32]}
    routes: [{to: default, via: 203.0.113.1}]
  s2:
    interfaces:
      eth0: {addresses: [203.0.113.10/29, 10.70.0.1/32]}
    routes: [{to: default, via: 203.0.113.9}]
links:
  - [a:eth0, r:eth0]
  - [r:eth1, s1:eth0]
  - [r:eth2, s2:eth0]
`;

/** Calico's way: a /32 in the container, its gateway 169.254.1.1 on no subnet, taken as on the link. */
const ONLINK = `name: onlink
nodes:
  pod:
    interfaces:
      eth0: {addresses: [10.0.0.5/32]}
    routes: [{to: default, via: 169.254.1.1, dev: eth0, onlink: true}]
  host:
    interfaces:
      cali0: {addresses: [169.254.1.1/32, 203.0.113.1/32]}
    routes: [{to: 10.0.0.5/32, dev: cali0}]
links:
  - [pod:eth0, host:cali0]
`;

interface Route {
  type?: string;
  dst: string;
  nexthops?: Array<{ gateway: string; weight: number }>;
  prefsrc?: string;
  flags?: string[];
}

function labFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netlab-routekinds-')), 'lab.yaml');
  writeFileSync(file, text);
  return file;
}

/** What ping says when it gets no echo: the ICMP error the router sent back, or nothing at all. */
async function pingError(address: string): Promise<string> {
  const r = await sb.inNs('a', ['ping', '-c', '1', '-w', '1', address]);
  expect(r.exitCode).not.toBe(0);
  return /Destination Host Unreachable|Packet filtered|Destination Net Unreachable/.exec(r.stdout)?.[0] ?? 'silence';
}

describe('routes of other kinds', () => {
  it('blackhole, unreachable and prohibit answer as the kernel makes them; multipath, table and src are read back; plan is clean', async () => {
    const file = labFile(LAB);
    await sb.netlabOk('apply', file);
    expect(await pingError('10.66.1.1')).toBe('silence');
    expect(await pingError('10.67.1.1')).toBe('Destination Host Unreachable');
    expect(await pingError('10.68.1.1')).toBe('Packet filtered');
    // Both paths lead to a host with 10.70.0.1: it answers whichever the flow takes.
    expect(await sb.ping('a', '10.70.0.1')).toBe(true);
    const multipath = await sb.ipJson<Route[]>('r', ['-d', 'route', 'show', '10.70.0.0/16']);
    expect(multipath[0]!.nexthops!.map((h) => [h.gateway, h.weight])).toEqual([['203.0.113.2', 1], ['203.0.113.10', 3]]);
    expect((await sb.ipJson<Route[]>('r', ['route', 'show', 'table', '200'])).map((r) => r.dst)).toEqual(['10.69.0.0/16']);
    expect((await sb.ipJson<Route[]>('a', ['route', 'get', '192.0.2.7']))[0]!.prefsrc).toBe('198.51.100.11');
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // A null route turned into another type, by hand: the plan sees it and apply puts it back.
    await sb.ok(['ip', '-n', 'r', 'route', 'replace', 'unreachable', '10.66.0.0/16', 'proto', '77']);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/route unreachable 10\.66\.0\.0\/16 → blackhole 10\.66\.0\.0\/16/);
    await sb.netlabOk('apply', file);
    expect(await pingError('10.66.1.1')).toBe('silence');

    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('reaches its gateway onlink though it is on no subnet of the node', async () => {
    const file = labFile(ONLINK);
    await sb.netlabOk('apply', file);
    expect(await sb.ping('pod', '203.0.113.1')).toBe(true);
    expect((await sb.ipJson<Route[]>('pod', ['route', 'show', 'default']))[0]!.flags).toContain('onlink');
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });
});
