// VLAN-filtering bridges on a kernel without them (this machine's): the file validates, and plan
// and apply refuse before anything is read or changed, naming each bridge, its key and what the
// kernel lacks. The lab itself runs in the full-kernel lane (test/kernel-vm/vlan-bridge.test.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = join(TOPOLOGIES, 'vlan-switch.yaml');
const REFUSAL = ['sw1:br0: vlans: true needs VLAN filtering on bridges (CONFIG_BRIDGE_VLAN_FILTERING), which this kernel lacks', 'sw2:br0: vlans: true needs VLAN filtering on bridges (CONFIG_BRIDGE_VLAN_FILTERING), which this kernel lacks'];

describe('bridge vlans on a kernel without VLAN filtering', () => {
  it('validates, and plan and apply refuse with one line per bridge, exit 1, nothing touched', async () => {
    const probe = await sb.run(['unshare', '--net', 'ip', 'link', 'add', 'b', 'type', 'bridge', 'vlan_filtering', '1']);
    if (probe.exitCode === 0) return; // a kernel with VLAN filtering: the full-kernel lane's case
    expect((await sb.netlab('validate', LAB)).exitCode).toBe(0);
    for (const command of ['plan', 'apply']) {
      const refused = await sb.netlab(command, LAB);
      expect(refused.exitCode, `${command}: ${refused.stdout}${refused.stderr}`).toBe(1);
      for (const line of REFUSAL) expect(refused.stderr).toContain(line);
      expect(refused.stderr).not.toMatch(/\n\s+at /);
      expect(await sb.leftovers()).toEqual([]);
    }
  });
});
