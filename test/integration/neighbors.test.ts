// Static neighbour entries against a real kernel. Node b never answers ARP (arp_ignore 8), so a
// reaches b only through the permanent entry the lab sets: ping proves the entry is there.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const B_MAC = '02:00:00:00:0b:02';

const LAB = `name: neigh
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
    neighbors:
      - {dev: eth0, address: 198.51.100.2, mac: "${B_MAC.toUpperCase()}"}
  b:
    interfaces:
      eth0: {addresses: [198.51.100.2/24], mac: "${B_MAC}"}
    sysctls: {net.ipv4.conf.eth0.arp_ignore: 8}
links:
  - [a:eth0, b:eth0]
`;

/** A host node: the sandbox's root namespace holds the lab's entry and one that is not the lab's. */
const ON_HOST = `name: neighhost
nodes:
  root:
    kind: host
    interfaces:
      h0: {addresses: [203.0.113.1/24]}
    neighbors:
      - {dev: h0, address: 203.0.113.2, mac: "${B_MAC}"}
  b:
    interfaces:
      eth0: {addresses: [203.0.113.2/24], mac: "${B_MAC}"}
    sysctls: {net.ipv4.conf.eth0.arp_ignore: 8}
links:
  - [root:h0, b:eth0]
`;

interface Neigh {
  dst: string;
  lladdr?: string;
  state: string[];
  protocol?: string;
}

function labFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netlab-neigh-')), 'lab.yaml');
  writeFileSync(file, text);
  return file;
}

const permanent = async (argv: string[]) => (JSON.parse(await sb.ok(argv)) as Neigh[]).filter((n) => n.state.includes('PERMANENT'));

describe('neighbors', () => {
  it('sets a permanent entry that traffic needs, plans clean, repairs it when deleted by hand, removes one it did not make, destroys to nothing', async () => {
    const file = labFile(LAB);
    await sb.netlabOk('apply', file);
    expect(await sb.ipJson<Neigh[]>('a', ['neigh', 'show', 'nud', 'permanent'])).toEqual([{ dst: '198.51.100.2', dev: 'eth0', lladdr: B_MAC, state: ['PERMANENT'], protocol: '77' }]);
    expect(await sb.ping('a', '198.51.100.2')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // Without the entry b cannot be reached: it answers no ARP.
    await sb.ok(['ip', '-n', 'a', 'neigh', 'del', '198.51.100.2', 'dev', 'eth0']);
    expect(await sb.ping('a', '198.51.100.2', 1)).toBe(false);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/\+ neighbour 198\.51\.100\.2 at 02:00:00:00:0b:02 on a:eth0/);

    // A permanent entry made by hand in the lab's own namespace is drift, as a route is.
    await sb.ok(['ip', '-n', 'a', 'neigh', 'replace', '198.51.100.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'eth0', 'nud', 'permanent']);
    await sb.netlabOk('apply', file);
    expect(await sb.ping('a', '198.51.100.2')).toBe(true);
    expect((await sb.ipJson<Neigh[]>('a', ['neigh', 'show', 'nud', 'permanent'])).map((n) => n.dst)).toEqual(['198.51.100.2']);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });

  it("in the root namespace sets its own entry, leaves the machine's, and takes only its own away", async () => {
    const file = labFile(ON_HOST);
    // The machine's interface and entries: one of them even carries netlab's protocol, which alone makes nothing the lab's.
    await sb.ok(['ip', 'link', 'add', 'm0', 'type', 'veth', 'peer', 'name', 'm0-far']);
    await sb.ok(['ip', 'neigh', 'replace', '192.0.2.7', 'lladdr', '02:00:00:00:00:07', 'dev', 'm0', 'nud', 'permanent']);
    await sb.ok(['ip', 'neigh', 'replace', '192.0.2.8', 'lladdr', '02:00:00:00:00:08', 'dev', 'm0', 'nud', 'permanent', 'proto', '77']);

    await sb.netlabOk('apply', file);
    expect(await sb.ping('b', '203.0.113.1')).toBe(true);
    expect((await permanent(['ip', '-j', 'neigh', 'show', 'dev', 'h0'])).map((n) => [n.dst, n.protocol])).toEqual([['203.0.113.2', '77']]);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // Dropped from the file: the lab's entry goes, the machine's stays.
    writeFileSync(file, ON_HOST.replace(/    neighbors:\n.*\n/, ''));
    await sb.netlabOk('apply', file);
    expect(await permanent(['ip', '-j', 'neigh', 'show', 'dev', 'h0'])).toEqual([]);
    await sb.netlabOk('destroy', file);
    expect((await permanent(['ip', '-j', 'neigh', 'show', 'dev', 'm0'])).map((n) => n.dst).sort()).toEqual(['192.0.2.7', '192.0.2.8']);
    await sb.ok(['ip', 'link', 'del', 'm0']);
    expect(await sb.leftovers()).toEqual([]);
  });
});
