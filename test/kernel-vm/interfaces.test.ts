// Interfaces made by kind that a minimal kernel lacks (vrf, bond, gre, dummy), for real under
// Debian's stock kernel: each lab of topologies/ that needs them is applied, passes its own
// tests, plans clean and is destroyed to nothing; the bond keeps traffic flowing when its active
// member goes down. One boot for all; the labs' commands run side by side inside it, so no two of
// these labs share a node name (a node's namespace is named after it).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, runInVm, vmUnavailable } from './vm.js';
import { ok } from './steps.js';

const why = vmUnavailable();

const LABS = ['vrf-tenants', 'bond-failover', 'gre-site-to-site', 'dummy-services'] as const;

/** apply, test, plan and destroy of one lab, in the background; the bond's failover between its test and plan. */
function labSteps(lab: string): string {
  const file = join(TOPOLOGIES, `${lab}.yaml`);
  const failover =
    lab === 'bond-failover'
      ? `
  step bond-before ip netns exec srv cat /proc/net/bonding/bond0
  active=$(sed -n 's/^Currently Active Slave: //p' bond-before.out)
  step bond-down ip -n srv link set dev "$active" down
  step bond-ping ip netns exec client ping -c 5 -i 0.2 -W 2 192.0.2.1
  step bond-after ip netns exec srv cat /proc/net/bonding/bond0
  step bond-up ip -n srv link set dev "$active" up`
      : '';
  return `(
  step ${lab}-apply netlab apply ${file}
  step ${lab}-test netlab test ${file} --json${failover}
  step ${lab}-plan netlab plan ${file} --detailed-exitcode
  step ${lab}-destroy netlab destroy ${file}
) &`;
}

describe.skipIf(why !== undefined)('interfaces made by kind, under Debian stock kernel', () => {
  it('vrf tenants, a bond failover, a GRE site-to-site and dummy service addresses: applied, tested, planned clean, destroyed', async () => {
    const run = await runInVm(`${LABS.map(labSteps).join('\n')}\nwait\nstep netns-left ip -j netns list\n`, 570_000);
    // Every lab's steps at once, so that one run shows all that failed.
    const failed = LABS.flatMap((lab) => ['apply', 'test', 'plan', 'destroy'].map((c) => `${lab}-${c}`)).filter((name) => run.step(name).exitCode !== 0);
    expect(failed.map((name) => `${name}:\n${run.step(name).output.slice(-1500)}`)).toEqual([]);
    for (const lab of LABS) {
      const report = JSON.parse(ok(run, `${lab}-test`)) as { ok: boolean; failed: number };
      expect(report, `${lab}'s tests`).toMatchObject({ ok: true, failed: 0 });
    }
    // The bond: its active member down, the other takes over and the client still reaches the server.
    ok(run, 'bond-down');
    expect(ok(run, 'bond-ping')).toMatch(/5 packets transmitted, [45] received/);
    const active = (name: string) => /Currently Active Slave: (\S+)/.exec(ok(run, name))?.[1];
    const before = active('bond-before');
    expect(['eth0', 'eth1']).toContain(before);
    expect(active('bond-after')).toBe(before === 'eth0' ? 'eth1' : 'eth0');
    // ip prints nothing, or [], when there are none.
    expect(['', '[]']).toContain(ok(run, 'netns-left').trim());
    console.log(run.log.split('\n').filter((l) => l.startsWith('step ') || l.startsWith('kernel-vm:')).join('\n'));
  }, 600_000);
});
