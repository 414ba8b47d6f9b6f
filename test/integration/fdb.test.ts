// Static forwarding entries against a real kernel. The bridge neither learns c2's MAC (learning
// off on its port) nor floods unknown unicast to it (flood off), so c1's echo requests reach c2
// only through the lab's entry: ping proves it is there. In the root namespace, the entries of a
// VXLAN device the machine made show that only the lab's own are changed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const C2_MAC = '02:00:00:00:0c:02';

const LAB = `name: fdb
nodes:
  sw:
    bridges:
      br0: {}
    fdb:
      - {dev: c2-eth0, mac: "${C2_MAC.toUpperCase()}"}
  c1:
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
  c2:
    interfaces:
      eth0: {addresses: [198.51.100.2/24], mac: "${C2_MAC}"}
links:
  - [c1:eth0, sw:br0]
  - endpoints: [c2:eth0, sw:br0]
    port: {learning: false, flood: false}
`;

/** A host node: the lab adds a remote to a VXLAN device the machine has, beside the machine's own. */
const ON_HOST = `name: fdbhost
nodes:
  root:
    kind: host
    fdb:
      - {dev: vx9, mac: "00:00:00:00:00:00", dst: 192.0.2.50}
      - {dev: vx9, mac: "02:00:00:00:00:51", dst: 192.0.2.51}
`;

interface Fdb {
  mac: string;
  ifname: string;
  master?: string;
  dst?: string;
  flags: string[];
  state: string;
}

function labFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netlab-fdb-')), 'lab.yaml');
  writeFileSync(file, text);
  return file;
}

async function fdb(argv: string[]): Promise<Fdb[]> {
  return JSON.parse(await sb.ok(['bridge', '-j', ...argv, 'fdb', 'show'])) as Fdb[];
}

const staticOn = async (port: string) => (await fdb(['-n', 'sw'])).filter((e) => e.ifname === port && e.state === 'static').map((e) => e.mac);
const remotes = async () => (await fdb([])).filter((e) => e.ifname === 'vx9' && e.dst !== undefined).map((e) => `${e.mac} ${e.dst}`).sort();

describe('fdb', () => {
  it('steers frames through a static entry, plans clean beside what the bridge learned, repairs it when deleted by hand, removes one it did not make, destroys to nothing', async () => {
    const file = labFile(LAB);
    await sb.netlabOk('apply', file);
    expect(await staticOn('c2-eth0')).toEqual([C2_MAC]);
    expect(await sb.ping('c1', '198.51.100.2')).toBe(true);
    // The bridge learned c1's MAC and keeps its ports' own: neither is the lab's, neither is drift.
    const learned = (await fdb(['-n', 'sw'])).filter((e) => e.ifname === 'c1-eth0' && e.master === 'br0' && e.state === '');
    expect(learned.length).toBeGreaterThan(0);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect((await sb.netlabOk('status', 'fdb')).stdout).toContain(`fdb ${C2_MAC} dev c2-eth0 master br0`);

    // Without the entry c2 cannot be reached: its port neither learns nor floods.
    await sb.ok(['bridge', '-n', 'sw', 'fdb', 'del', C2_MAC, 'dev', 'c2-eth0', 'master']);
    expect(await sb.ping('c1', '198.51.100.2', 1)).toBe(false);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/\+ forwarding entry 02:00:00:00:0c:02 on sw:c2-eth0 +forwarding entry 02:00:00:00:0c:02 missing/);

    // A static entry made by hand in the lab's own namespace is drift, as a neighbour entry is.
    await sb.ok(['bridge', '-n', 'sw', 'fdb', 'add', '02:00:00:00:00:99', 'dev', 'c1-eth0', 'master', 'static']);
    await sb.netlabOk('apply', file);
    expect(await sb.ping('c1', '198.51.100.2')).toBe(true);
    expect(await staticOn('c2-eth0')).toEqual([C2_MAC]);
    expect(await staticOn('c1-eth0')).toEqual([]);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // Dropped from the file: the record says the node had entries, so they are read and go.
    writeFileSync(file, LAB.replace(/    fdb:\n.*\n/, ''));
    await sb.netlabOk('apply', file);
    expect(await staticOn('c2-eth0')).toEqual([]);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });

  it("in the root namespace adds its remotes to the machine's VXLAN device, leaves the machine's, and takes only its own away", async () => {
    const file = labFile(ON_HOST);
    await sb.ok(['ip', 'link', 'add', 'vx9', 'type', 'vxlan', 'id', '9', 'dstport', '4789', 'local', '192.0.2.1', 'nolearning']);
    await sb.ok(['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx9', 'dst', '192.0.2.60', 'self', 'permanent']);

    await sb.netlabOk('apply', file);
    expect(await remotes()).toEqual(['00:00:00:00:00:00 192.0.2.50', '00:00:00:00:00:00 192.0.2.60', '02:00:00:00:00:51 192.0.2.51']);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    // Deleted by hand: drift, repaired.
    await sb.ok(['bridge', 'fdb', 'del', '02:00:00:00:00:51', 'dev', 'vx9', 'dst', '192.0.2.51', 'self']);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/\+ forwarding entry 02:00:00:00:00:51 via 192\.0\.2\.51 on root:vx9/);
    await sb.netlabOk('apply', file);
    expect(await remotes()).toContain('02:00:00:00:00:51 192.0.2.51');

    // Dropped from the file: the lab's remote goes, the machine's stays.
    writeFileSync(file, ON_HOST.replace(/      - \{dev: vx9, mac: "02.*\n/, ''));
    await sb.netlabOk('apply', file);
    expect(await remotes()).toEqual(['00:00:00:00:00:00 192.0.2.50', '00:00:00:00:00:00 192.0.2.60']);
    await sb.netlabOk('destroy', file);
    expect(await remotes()).toEqual(['00:00:00:00:00:00 192.0.2.60']);
    await sb.ok(['ip', 'link', 'del', 'vx9']);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('keeps the entry a VXLAN device made with remote has of its own, beside the remotes the file adds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-fdb-vx-'));
    const file = join(dir, 'vx.yaml');
    writeFileSync(
      file,
      `name: fdb-vx
nodes:
  h1:
    interfaces:
      eth0: {addresses: [192.0.2.1/24]}
      vx0: {kind: vxlan, id: 42, local: 192.0.2.1, remote: 192.0.2.2, parent: eth0, addresses: [10.42.0.1/24]}
    fdb:
      - {dev: vx0, mac: "00:00:00:00:00:00", dst: 192.0.2.3}
  h2:
    interfaces:
      eth0: {addresses: [192.0.2.2/24]}
      vx0: {kind: vxlan, id: 42, local: 192.0.2.2, remote: 192.0.2.1, parent: eth0, addresses: [10.42.0.2/24]}
links:
  - [h1:eth0, h2:eth0]
`,
    );
    await sb.netlabOk('apply', file);
    const dsts = (await sb.run(['ip', 'netns', 'exec', 'h1', 'bridge', '-j', 'fdb', 'show', 'dev', 'vx0'])).stdout;
    const remotes = (JSON.parse(dsts) as Array<{ mac: string; dst?: string }>).filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst).sort();
    expect(remotes).toEqual(['192.0.2.2', '192.0.2.3']);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect(await sb.ping('h1', '10.42.0.2')).toBe(true);
    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });
});

