// The lane's first proof: a lab applies, passes its tests, plans clean and destroys under Debian's stock
// kernel, and that kernel has what a minimal one lacks (netem, 802.1Q, VRF, dummy, and the bond,
// tunnel and VLAN-filtering kinds), each shown by its effect: a 50 ms netem delay adds 50 ms to the
// ping RTT, the new links exist with their kind and settings in `ip -j -d link`.
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, runInVm, vmUnavailable } from './vm.js';
import { ok, pingSummary, timings } from './steps.js';

const why = vmUnavailable();

/** The namespaces `ip -j netns list` shows (it prints nothing at all when there are none). */
function namespaces(output: string): string[] {
  return output.trim() === '' ? [] : (JSON.parse(output) as { name: string }[]).map((n) => n.name).sort();
}

/** The release Debian's linux-image-amd64 depends on ("6.1.0-57-amd64"), where dpkg knows it. */
function stockRelease(): string | undefined {
  const depends = spawnSync('dpkg-query', ['-W', '-f=${Depends}', 'linux-image-amd64'], { encoding: 'utf8' }).stdout ?? '';
  return /^linux-image-([^ ,]+)/.exec(depends)?.[1];
}

describe.skipIf(why !== undefined)('Debian stock kernel under qemu', () => {
  it('applies seed-001-nat, passes its tests, plans clean and destroys it to nothing', async () => {
    const lab = join(TOPOLOGIES, 'seed-001-nat.yaml');
    const run = await runInVm(
      `
step apply netlab apply ${lab}
step netns-applied ip -j netns list
step test netlab test ${lab} --json
step plan netlab plan ${lab} --detailed-exitcode
step destroy netlab destroy ${lab}
step netns-destroyed ip -j netns list
`,
      400_000,
    );
    ok(run, 'apply');
    expect(namespaces(ok(run, 'netns-applied'))).toEqual(['host', 'internet', 'netns0', 'netns1']);
    const report = JSON.parse(ok(run, 'test')) as { ok: boolean; passed: number; failed: number };
    expect(report).toMatchObject({ ok: true, passed: 6, failed: 0 });
    // The kernel reads back as the file says: 6.1's ip and nft output parse like this machine's.
    ok(run, 'plan');
    ok(run, 'destroy');
    expect(namespaces(ok(run, 'netns-destroyed'))).toEqual([]);
    console.log(timings(run));
  });

  it('has netem (a 50 ms delay adds 50 ms RTT), 802.1Q, VRF, dummy, VLAN-filtering bridge, bond, GRE, IPIP and WireGuard links', async () => {
    const run = await runInVm(
      `
set -e
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 192.0.2.1/24 dev va
ip -n b addr add 192.0.2.2/24 dev vb
ip -n a link set va up
ip -n b link set vb up
set +e
step kernel uname -r
step ping-before ip netns exec a ping -c 10 -i 0.2 -q 192.0.2.2
step netem tc -n a qdisc add dev va root netem delay 50ms
step qdisc tc -n a -j qdisc show dev va
step ping-after ip netns exec a ping -c 10 -i 0.2 -q 192.0.2.2
step vlan ip -n a link add va.10 link va type vlan id 10
step vlan-show ip -n a -j -d link show va.10
step vrf ip -n a link add blue type vrf table 10
step vrf-show ip -n a -j -d link show blue
step dummy ip -n a link add d0 type dummy
step dummy-show ip -n a -j -d link show d0
step vlan-bridge ip -n a link add br0 type bridge vlan_filtering 1
step vlan-bridge-show ip -n a -j -d link show br0
step bond ip -n a link add bond0 type bond mode active-backup
step bond-show ip -n a -j -d link show bond0
# gre0 and tunl0 are the modules' own fallback devices: the names here are others.
step gre ip -n a link add gre-ab type gre local 192.0.2.1 remote 192.0.2.2
step gre-show ip -n a -j -d link show gre-ab
step ipip ip -n a link add ipip-ab type ipip local 192.0.2.1 remote 192.0.2.2
step ipip-show ip -n a -j -d link show ipip-ab
step wireguard ip -n a link add wg0 type wireguard
step wireguard-show ip -n a -j -d link show wg0
`,
      120_000,
    );
    // Not this machine's kernel: Debian's, whose modules the VM loads from /lib/modules.
    expect(ok(run, 'kernel').trim()).not.toBe(release());
    expect(ok(run, 'kernel').trim()).toMatch(/-amd64$/);
    // The stock flavour, even beside a newer-sorting -rt-amd64 (whose netem timing differs).
    const stock = stockRelease();
    if (stock !== undefined) expect(ok(run, 'kernel').trim()).toBe(stock);
    const before = pingSummary(ok(run, 'ping-before'));
    ok(run, 'netem');
    const qdiscs = JSON.parse(ok(run, 'qdisc')) as { kind: string; root?: boolean; options?: { delay?: { delay: number } } }[];
    expect(qdiscs.find((q) => q.root)?.kind).toBe('netem');
    const after = pingSummary(ok(run, 'ping-after'));
    expect([before.received, after.received]).toEqual([10, 10]);
    // The fastest of each ten: emulation on a busy machine adds milliseconds of noise to the rest.
    expect(after.min).toBeGreaterThanOrEqual(50);
    expect(after.min - before.min).toBeGreaterThan(45);
    expect(after.min - before.min).toBeLessThan(60);

    type Link = { ifname: string; linkinfo?: { info_kind: string; info_data?: Record<string, unknown> } };
    const link = (name: string): Link => {
      ok(run, name);
      return (JSON.parse(ok(run, `${name}-show`)) as Link[])[0]!;
    };
    expect(link('vlan').linkinfo).toMatchObject({ info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 10 } });
    expect(link('vrf').linkinfo).toMatchObject({ info_kind: 'vrf', info_data: { table: 10 } });
    expect(link('dummy').linkinfo?.info_kind).toBe('dummy');
    // What the other link kinds of the lab file will need, so that the lane shows they are there.
    expect(link('vlan-bridge').linkinfo).toMatchObject({ info_kind: 'bridge', info_data: { vlan_filtering: 1 } });
    expect(link('bond').linkinfo).toMatchObject({ info_kind: 'bond', info_data: { mode: 'active-backup' } });
    expect(link('gre').linkinfo).toMatchObject({ info_kind: 'gre', info_data: { local: '192.0.2.1', remote: '192.0.2.2' } });
    expect(link('ipip').linkinfo).toMatchObject({ info_kind: 'ipip', info_data: { local: '192.0.2.1', remote: '192.0.2.2' } });
    expect(link('wireguard').linkinfo?.info_kind).toBe('wireguard');
    console.log(`ping RTT min/avg ${before.min}/${before.avg} ms, with netem delay 50ms ${after.min}/${after.avg} ms\n${timings(run)}`);
  });
});
