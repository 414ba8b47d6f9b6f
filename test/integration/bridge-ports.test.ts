// Bridge port flags against a real kernel: isolated ports do not reach each other but reach the
// rest; hairpin lets frames go back out of the port they came in on; the flags are read back from
// `ip -d -j link`; drift is put right, and a flag dropped from the file goes back to the default.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = `name: ports
nodes:
  sw:
    bridges:
      br0: {}
    interfaces:
      c1-eth0: {isolated: true}
  c1:
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
  c2:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
  c3:
    interfaces:
      eth0: {addresses: [198.51.100.3/24]}
links:
  - [c1:eth0, sw:br0]
  - endpoints: [c2:eth0, sw:br0]
    port: {isolated: true, hairpin: true, learning: false}
  - [c3:eth0, sw:br0]
`;

/**
 * Two macvlan children in VEPA mode on one parent send everything, even to each other, out of the
 * parent, whose far end is a bridge port: they reach each other only when the bridge sends frames
 * back out of the port they came in on. Made with plain ip in namespaces of the test's own.
 */
const HAIRPIN = `name: hairpin
nodes:
  sw:
    bridges:
      br0: {}
  h:
    interfaces:
      eth0: {}
links:
  - endpoints: [h:eth0, sw:br0]
    port: {hairpin: false}
`;

interface Port {
  ifname: string;
  linkinfo: { info_slave_data: { isolated: boolean; hairpin: boolean; learning: boolean; flood: boolean } };
}

async function flags(port: string): Promise<Port['linkinfo']['info_slave_data']> {
  const [link] = await sb.ipJson<Port[]>('sw', ['-d', 'link', 'show', 'dev', port]);
  const { isolated, hairpin, learning, flood } = link!.linkinfo.info_slave_data;
  return { isolated, hairpin, learning, flood };
}

describe('bridge port flags', () => {
  it('keep isolated ports apart, read back, repair drift, and go back to the default when the file drops them', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netlab-ports-')), 'lab.yaml');
    writeFileSync(file, LAB);
    await sb.netlabOk('apply', file);
    expect(await flags('c1-eth0')).toEqual({ isolated: true, hairpin: false, learning: true, flood: true });
    expect(await flags('c2-eth0')).toEqual({ isolated: true, hairpin: true, learning: false, flood: true });
    expect(await sb.ping('c1', '198.51.100.3')).toBe(true);
    expect(await sb.ping('c2', '198.51.100.3')).toBe(true);
    expect(await sb.ping('c1', '198.51.100.2', 1)).toBe(false);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    await sb.ok(['ip', '-n', 'sw', 'link', 'set', 'dev', 'c1-eth0', 'type', 'bridge_slave', 'isolated', 'off']);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/~ bridge port sw:c1-eth0: isolated on/);
    await sb.netlabOk('apply', file);
    expect((await flags('c1-eth0')).isolated).toBe(true);

    writeFileSync(file, LAB.replace('    interfaces:\n      c1-eth0: {isolated: true}\n', ''));
    await sb.netlabOk('apply', file);
    expect((await flags('c1-eth0')).isolated).toBe(false);
    expect(await sb.ping('c1', '198.51.100.2')).toBe(true);

    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('hairpin: two VEPA macvlan children behind one port reach each other only with hairpin on', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netlab-hairpin-')), 'lab.yaml');
    writeFileSync(file, HAIRPIN);
    await sb.netlabOk('apply', file);
    for (const [i, child] of ['m1', 'm2'].entries()) {
      await sb.ok(['ip', 'netns', 'add', child]);
      await sb.ok(['ip', '-n', 'h', 'link', 'add', child, 'link', 'eth0', 'type', 'macvlan', 'mode', 'vepa']);
      await sb.ok(['ip', '-n', 'h', 'link', 'set', child, 'netns', child]);
      await sb.ok(['ip', '-n', child, 'addr', 'add', `198.51.100.${11 + i}/24`, 'dev', child]);
      await sb.ok(['ip', '-n', child, 'link', 'set', child, 'up']);
    }
    expect(await sb.ping('m1', '198.51.100.12', 2)).toBe(false);

    writeFileSync(file, HAIRPIN.replace('hairpin: false', 'hairpin: true'));
    await sb.netlabOk('apply', file);
    expect((await flags('h-eth0')).hairpin).toBe(true);
    expect(await sb.ping('m1', '198.51.100.12')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    for (const child of ['m1', 'm2']) await sb.ok(['ip', 'netns', 'del', child]);
    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });
});
