// Interfaces made by kind that a minimal kernel lacks (vrf, bond, gre, dummy, wireguard), for real
// under Debian's stock kernel: each lab of topologies/ that needs them is applied, passes its own
// tests, plans clean and is destroyed to nothing; the bond keeps traffic flowing when its active
// member goes down; WireGuard's keys are the lab's own, and its drift is set right in place. One
// boot for all; the labs' commands run side by side inside it, so no two of these labs share a
// node name (a node's namespace is named after it).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, runInVm, vmUnavailable } from './vm.js';
import { ok } from './steps.js';
import type { VmRun } from './vm.js';

const why = vmUnavailable();

const LABS = ['vrf-tenants', 'bond-failover', 'gre-site-to-site', 'dummy-services', 'wireguard-site-to-site'] as const;

const WG_KEYS = '/run/netlab/wireguard-site-to-site/wireguard';

/** A key nobody in the lab has: a peer added by hand, which apply takes away. */
const FOREIGN_PEER = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';

/**
 * WireGuard between its apply and its tests: the keys netlab made and what wg shows, then drift
 * made by hand (another listen port, a peer's allowed prefixes cut, a foreign peer) that apply
 * plans and sets right in place; the lab's own tests then run on the repaired tunnel. (A netlab
 * command costs 10 s and more under emulation: the repair's apply prints its plan too.)
 */
function wireguardSteps(file: string): string {
  return `
  step wg-keys stat -c '%a %s %n' ${WG_KEYS} ${WG_KEYS}/gw-a.wg0.key ${WG_KEYS}/gw-b.wg0.key
  step wg-pubkeys sh -c 'wg pubkey < ${WG_KEYS}/gw-a.wg0.key; wg pubkey < ${WG_KEYS}/gw-b.wg0.key'
  step wg-show-a ip netns exec gw-a wg show wg0 dump
  step wg-show-b ip netns exec gw-b wg show wg0 dump
  step wg-drift sh -c 'ip netns exec gw-a wg set wg0 listen-port 51999 peer "$(wg pubkey < ${WG_KEYS}/gw-b.wg0.key)" allowed-ips 10.9.0.2/32 peer ${FOREIGN_PEER} allowed-ips 10.99.0.0/24'
  step wg-drift-ping ip netns exec pc-a ping -c 1 -W 1 10.2.0.10
  step wg-repair netlab apply ${file}
  step wg-repaired-show ip netns exec gw-a wg show wg0 dump`;
}

/** apply, test, plan and destroy of one lab, in the background; the bond's failover between its test and plan, WireGuard's drift between its apply and test. */
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
  const wireguard = lab === 'wireguard-site-to-site';
  return `(
  step ${lab}-apply netlab apply ${file}${wireguard ? wireguardSteps(file) : ''}
  step ${lab}-test netlab test ${file} --json${failover}
  step ${lab}-plan netlab plan ${file} --detailed-exitcode
  step ${lab}-destroy netlab destroy ${file}${wireguard ? '\n  step wg-keys-gone test ! -e /run/netlab/wireguard-site-to-site' : ''}
) &`;
}

describe.skipIf(why !== undefined)('interfaces made by kind, under Debian stock kernel', () => {
  it('vrf tenants, a bond failover, GRE and WireGuard site-to-sites and dummy service addresses: applied, tested, planned clean, destroyed', async () => {
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
    expectWireguard(run);
    // ip prints nothing, or [], when there are none.
    expect(['', '[]']).toContain(ok(run, 'netns-left').trim());
    console.log(run.log.split('\n').filter((l) => l.startsWith('step ') || l.startsWith('kernel-vm:')).join('\n'));
  }, 600_000);
});

/** The dump's interface line (private, public, port, fwmark) and its peers (public, psk, endpoint, allowed, ...). */
function wgDump(text: string): { publicKey: string; listen: string; peers: string[][] } {
  const [head, ...peers] = text.trim().split('\n').map((l) => l.split('\t'));
  return { publicKey: head![1]!, listen: head![2]!, peers };
}

function expectWireguard(run: VmRun): void {
  // One key per gateway, 0600 in a 0700 directory of the lab's record, each the one its interface has.
  const modes = ok(run, 'wg-keys').trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '));
  expect(modes[0]).toMatch(/^700 /);
  expect(modes.slice(1)).toEqual(['600 45', '600 45']);
  const [pubA, pubB] = ok(run, 'wg-pubkeys').trim().split('\n');
  const a = wgDump(ok(run, 'wg-show-a'));
  const b = wgDump(ok(run, 'wg-show-b'));
  expect([a.publicKey, a.listen, b.publicKey, b.listen]).toEqual([pubA, '51820', pubB, '51820']);
  // Each side's peer is the other's public key, with the file's endpoint and allowed prefixes.
  expect(a.peers.map((p) => [p[0], p[2], p[3]])).toEqual([[pubB, '198.51.100.1:51820', '10.2.0.0/24,10.9.0.2/32']]);
  expect(b.peers.map((p) => [p[0], p[2], p[3]])).toEqual([[pubA, '192.0.2.1:51820', '10.1.0.0/24,10.9.0.1/32']]);
  // Drift: with gw-b's LAN no longer allowed through it, gw-a has no peer to send pc-a's packets to.
  ok(run, 'wg-drift');
  expect(run.step('wg-drift-ping').exitCode).not.toBe(0);
  // The repair is one change in place: the interface is not made again.
  const repair = ok(run, 'wg-repair');
  expect(repair).toMatch(/~ wireguard gw-a:wg0/);
  expect(repair).toContain('listen 51999 → 51820');
  expect(repair).toContain('peer gw-b:wg0: allowed 10.9.0.2/32 → 10.2.0.0/24,10.9.0.2/32');
  expect(repair).toContain(`peer ${FOREIGN_PEER} is not in the file`);
  expect(repair).toMatch(/0 to create, 1 to change, 0 to delete/);
  expect(repair).toMatch(/0 created, 1 changed, 0 deleted/);
  const repaired = wgDump(ok(run, 'wg-repaired-show'));
  expect([repaired.publicKey, repaired.listen]).toEqual([pubA, '51820']);
  expect(repaired.peers.map((p) => [p[0], p[3]])).toEqual([[pubB, '10.2.0.0/24,10.9.0.2/32']]);
  // Destroy took the keys with the record.
  ok(run, 'wg-keys-gone');
}
