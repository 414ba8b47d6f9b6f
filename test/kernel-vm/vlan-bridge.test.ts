// VLAN-filtering bridges under Debian's stock kernel, in one boot: topologies/vlan-switch.yaml
// applies, its checks pass (access ports of one VLAN reach each other on one switch and across
// the trunk, a host on the wrong access VLAN reaches no one), `bridge -j vlan show` has each
// port's VLANs, `bridge -j fdb show` the lab's static entry for VLAN 10, the plan is clean; a VLAN taken off a port by hand cuts its host off and one added
// by hand is drift: apply's plan shows both with their reasons, and repairs them; destroy leaves nothing.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, runInVm, vmUnavailable, type VmRun } from './vm.js';
import { ok } from './steps.js';

const why = vmUnavailable();
const LAB = join(TOPOLOGIES, 'vlan-switch.yaml');
const STICK = join(TOPOLOGIES, 'router-on-a-stick.yaml');

type VlanShow = Array<{ ifname: string; vlans: Array<{ vlan: number; vlanEnd?: number; flags?: string[] }> }>;

/** Each port's VLANs as "10 PVID untagged" / "20 tagged", by port. */
function portVlans(output: string): Record<string, string[]> {
  const ports: Record<string, string[]> = {};
  for (const { ifname, vlans } of JSON.parse(output) as VlanShow) {
    ports[ifname] = vlans.map((v) => `${v.vlan}${v.flags?.includes('PVID') ? ' PVID' : ''} ${v.flags?.includes('Egress Untagged') ? 'untagged' : 'tagged'}`);
  }
  return ports;
}

/** The lab's own tests as plain pings: a netlab command costs 20-60 s under emulation, a ping one. */
const PINGS = [
  ['a1', '198.51.100.3', 'same-vlan'],
  ['a1', '198.51.100.2', 'trunk-10'],
  ['b1', '203.0.113.2', 'trunk-20'],
  ['stray', '198.51.100.1', 'wrong-vlan'],
  ['stray', '198.51.100.2', 'wrong-vlan-trunk'],
] as const;

/** The one boot's run, which the router-on-a-stick test reads too. */
let stickRun: VmRun | undefined;

describe.skipIf(why !== undefined)('VLAN-filtering bridges under the stock kernel', () => {
  it('vlan-switch: access and trunk ports carry their VLANs, the wrong VLAN is cut off, drift is repaired, destroy leaves nothing', async () => {
    // Four netlab commands in all: apply, a clean plan, an apply that shows the drift (its plan, with
    // reasons) and repairs it, destroy.
    const run = await runInVm(
      `
step apply netlab apply ${LAB}
step vlans bridge -n sw1 -j vlan show
step fdb bridge -n sw1 -j fdb show
${PINGS.map(([from, to, name]) => `step ${name} ip netns exec ${from} ping -c 1 -W 2 ${to}`).join('\n')}
step plan netlab plan ${LAB} --detailed-exitcode
step hand-add bridge -n sw1 vlan add vid 30 dev a1-eth0
step hand-del bridge -n sw1 vlan del vid 10 dev a3-eth0
step cut-off ip netns exec a1 ping -c 1 -W 1 198.51.100.3
step repair netlab apply ${LAB}
step vlans-repaired bridge -n sw1 -j vlan show
step back ip netns exec a1 ping -c 1 -W 3 198.51.100.3
step destroy netlab destroy ${LAB}
step netns-destroyed ip -j netns list
step stick-apply netlab apply ${STICK}
step stick-gateway ip netns exec h10 ping -c 1 -W 2 198.51.100.1
step stick-routed ip netns exec h10 ping -c 1 -W 2 203.0.113.20
step stick-back ip netns exec h20 ping -c 1 -W 2 198.51.100.10
step stick-stray ip netns exec stray ping -c 1 -W 2 198.51.100.10
step stick-destroy netlab destroy ${STICK}
step stick-netns ip -j netns list
`,
      420_000,
    );
    stickRun = run;
    console.log(run.log.split('\n').filter((l) => l.startsWith('step ') || l.startsWith('kernel-vm:')).join('\n'));
    ok(run, 'apply');
    const vlans = portVlans(ok(run, 'vlans'));
    expect(vlans).toMatchObject({ 'a1-eth0': ['10 PVID untagged'], 'a3-eth0': ['10 PVID untagged'], 'b1-eth0': ['20 PVID untagged'], 'stray-eth0': ['20 PVID untagged'], 'sw2-br0': ['10 tagged', '20 tagged'] });
    const pinned = (JSON.parse(ok(run, 'fdb')) as Array<{ mac: string; ifname: string; vlan?: number; state: string }>).filter((e) => e.state === 'static');
    expect(pinned).toEqual([expect.objectContaining({ mac: '02:00:00:00:0a:02', ifname: 'sw2-br0', vlan: 10 })]);
    for (const name of ['same-vlan', 'trunk-10', 'trunk-20']) ok(run, name);
    for (const name of ['wrong-vlan', 'wrong-vlan-trunk']) expect(run.step(name).exitCode, `${name}: stray reached VLAN 10`).not.toBe(0);
    ok(run, 'plan');

    ok(run, 'hand-add');
    ok(run, 'hand-del');
    expect(run.step('cut-off').exitCode).not.toBe(0);
    const repair = ok(run, 'repair');
    expect(repair).toMatch(/~ port VLANs sw1:a1-eth0: -30 +a1-eth0: VLAN 10 \(pvid, untagged\), 30 \(tagged\) → VLAN 10 \(pvid, untagged\)/);
    expect(repair).toMatch(/~ port VLANs sw1:a3-eth0: \+10 \(pvid, untagged\) +a3-eth0: no VLAN → VLAN 10 \(pvid, untagged\)/);
    expect(portVlans(ok(run, 'vlans-repaired'))).toMatchObject({ 'a1-eth0': ['10 PVID untagged'], 'a3-eth0': ['10 PVID untagged'] });
    ok(run, 'back');

    ok(run, 'destroy');
    // `ip -j netns list` prints nothing, or [], when there are none.
    expect(JSON.parse(ok(run, 'netns-destroyed').trim() || '[]')).toEqual([]);
  });

  // Run in the same boot: apply verifies the kernel against the file itself, so no plan of its own.
  it('router-on-a-stick: hosts of VLAN 10 and 20 reach each other through the router\'s eth0.10 and eth0.20 on a trunk; the wrong VLAN reaches no one', () => {
    const run = stickRun!;
    ok(run, 'stick-apply');
    for (const name of ['stick-gateway', 'stick-routed', 'stick-back']) ok(run, name);
    expect(run.step('stick-stray').exitCode, 'stray reached VLAN 10').not.toBe(0);
    ok(run, 'stick-destroy');
    expect(JSON.parse(ok(run, 'stick-netns').trim() || '[]')).toEqual([]);
  });
});
