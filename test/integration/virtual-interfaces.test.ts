// Interfaces a node makes by kind, against a real kernel: a macvlan child cannot reach its parent
// host (the bug) and a shim on the host is the fix; a VXLAN carries pods' traffic between two
// hosts, encapsulated on the underlay; drift is planned with its reason and repaired, a VNI
// changed makes that interface again alone; script, export and destroy; in the root namespace
// only what the lab made goes; kinds this kernel lacks are refused before anything is touched.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

function labFile(text: string, name = 'lab.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netlab-virtual-')), name);
  writeFileSync(file, text);
  return file;
}

const SHIM_LAB = readFileSync(join(TOPOLOGIES, 'macvlan-shim.yaml'), 'utf8');
const VXLAN_LAB = readFileSync(join(TOPOLOGIES, 'vxlan-overlay.yaml'), 'utf8');

/** The shim lab without its shim, its route and its sysctl: docker's macvlan network as it comes. */
const NO_SHIM = SHIM_LAB.replace(/      shim: .*\n/, '').replace(/    routes:\n      - \{to: 192\.168\.50\.64.*\n/, '').replace(/    sysctls:\n      net\.ipv4\.conf\.shim.*\n/, '').replace(/\ntests:[\s\S]*$/, '\n');

interface LinkJson {
  ifname: string;
  ifalias?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

const linkInfo = async (netns: string, dev: string) => (await sb.ipJson<LinkJson[]>(netns, ['-d', 'link', 'show', 'dev', dev]))[0]!;

/** Packets h1 sent on its underlay to the VXLAN port, counted by an nft table that is no lab's. */
async function countEncapsulated(): Promise<number> {
  const r = await sb.inNs('h1', ['nft', '-j', 'list', 'chain', 'ip', 'encap', 'out']);
  const rules = (JSON.parse(r.stdout) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> }).nftables;
  return rules.flatMap((x) => x.rule?.expr ?? []).find((e) => e.counter)!.counter!.packets;
}

const planExit = async (file: string) => (await sb.netlab('plan', '--detailed-exitcode', file)).exitCode;

describe('macvlan', () => {
  it('a macvlan child cannot reach its parent host; a shim on the host lets the host reach it', async () => {
    const bug = labFile(NO_SHIM);
    await sb.netlabOk('apply', bug);
    // c1's eth0 was made from dhost's eth0 and placed in c1: its parent is in another namespace.
    expect((await linkInfo('c1', 'eth0')).linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: 'bridge' } });
    expect((await linkInfo('c1', 'eth0')).link_netnsid).toBeDefined();
    expect(await sb.ping('c1', '192.168.50.1')).toBe(true); // the LAN
    expect(await sb.ping('c1', '192.168.50.10', 1)).toBe(false); // its own host: the bug
    expect(await sb.ping('dhost', '192.168.50.66', 1)).toBe(false);
    expect(await planExit(bug)).toBe(0);

    const fix = labFile(SHIM_LAB);
    const applied = await sb.netlabOk('apply', fix);
    expect(applied.stdout).toMatch(/\+ macvlan dhost:shim on eth0 \(mode bridge\)/);
    expect(applied.stdout).not.toMatch(/macvlan c1:eth0/); // the container is kept as it is
    const tested = await sb.netlab('test', fix);
    expect(tested.exitCode, tested.stdout).toBe(0);
    expect(await sb.ping('dhost', '192.168.50.66')).toBe(true);

    // Drift: the mode changed by hand is planned with its reason and set back in place.
    await sb.ok(['ip', '-n', 'c1', 'link', 'set', 'dev', 'eth0', 'type', 'macvlan', 'mode', 'private']);
    const drift = await sb.netlab('plan', '--detailed-exitcode', fix);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/~ macvlan c1:eth0 on dhost:eth0: mode bridge +eth0: mode private → mode bridge/);
    expect(drift.stdout).toMatch(/0 to create, 1 to change, 0 to delete/);
    await sb.netlabOk('apply', fix);
    expect((await linkInfo('c1', 'eth0')).linkinfo?.info_data?.mode).toBe('bridge');
    // The shim deleted by hand is made again, with its address and route.
    await sb.ok(['ip', '-n', 'dhost', 'link', 'del', 'shim']);
    expect(await planExit(fix)).toBe(2);
    await sb.netlabOk('apply', fix);
    expect(await sb.ping('dhost', '192.168.50.66')).toBe(true);
    const again = await sb.netlabOk('apply', fix);
    expect(again.stdout).toMatch(/0 created, 0 changed, 0 deleted|no changes/i);
    expect(await planExit(fix)).toBe(0);

    await sb.netlabOk('destroy', fix);
    expect(await sb.leftovers()).toEqual([]);
  });

  it("in the root namespace makes its own macvlan, marked, and leaves the machine's alone", async () => {
    await sb.ok(['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up0-far']);
    await sb.ok(['ip', 'link', 'add', 'theirs', 'link', 'up0', 'type', 'macvlan', 'mode', 'bridge']);
    const file = labFile(`name: mvhost
nodes:
  root:
    kind: host
    interfaces:
      up0: {}
      shim: {kind: macvlan, parent: up0, mode: private, addresses: [198.51.100.1/24]}
`);
    await sb.netlabOk('apply', file);
    const shim = (JSON.parse(await sb.ok(['ip', '-d', '-j', 'link', 'show', 'dev', 'shim'])) as LinkJson[])[0]!;
    expect(shim).toMatchObject({ ifalias: 'netlab:mvhost', linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } });
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    await sb.netlabOk('destroy', file);
    const left = (JSON.parse(await sb.ok(['ip', '-j', 'link', 'show'])) as LinkJson[]).map((l) => l.ifname).sort();
    expect(left).toEqual(['lo', 'theirs', 'up0', 'up0-far']);
    await sb.ok(['ip', 'link', 'del', 'up0']);
  });
});

describe('vxlan', () => {
  it('carries pod traffic between two hosts, encapsulated on the underlay; drift and a new VNI are repaired alone', async () => {
    const file = labFile(VXLAN_LAB);
    await sb.netlabOk('apply', file);
    expect((await linkInfo('h1', 'flannel.1')).linkinfo).toMatchObject({ info_kind: 'vxlan', info_data: { id: 1, local: '192.0.2.1', remote: '192.0.2.2', link: 'eth0', port: 8472, learning: false } });
    await sb.ok(['ip', 'netns', 'exec', 'h1', 'nft', '-f', '-'], 'table ip encap {\n chain out {\n  type filter hook output priority 0;\n  oifname "eth0" udp dport 8472 counter\n }\n}\n');
    const before = await countEncapsulated();
    const pinged = await sb.inNs('pod1', ['ping', '-c', '5', '-i', '0.05', '-w', '5', '10.244.2.2']);
    expect(pinged.stdout).toMatch(/5 received/);
    expect((await countEncapsulated()) - before).toBeGreaterThanOrEqual(5);
    expect(await planExit(file)).toBe(0);
    const status = await sb.netlabOk('status', 'vxlan-overlay');
    expect(status.stdout).toMatch(/flannel\.1 +vxlan +up +10\.244\.1\.0\/32  \(on eth0, id 1, local 192\.0\.2\.1, remote 192\.0\.2\.2, dstport 8472, learning false\)/);

    // learning switched on by hand: set back in place.
    await sb.ok(['ip', '-n', 'h2', 'link', 'set', 'dev', 'flannel.1', 'type', 'vxlan', 'learning']);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/flannel\.1: learning true → learning false/);
    await sb.netlabOk('apply', file);
    expect((await linkInfo('h2', 'flannel.1')).linkinfo?.info_data?.learning).toBe(false);

    // A new VNI: the kernel cannot change it, so each flannel.1 is made again, and nothing else.
    const vni2 = labFile(VXLAN_LAB.replace(/kind: vxlan, id: 1,/g, 'kind: vxlan, id: 2,'));
    const plan = await sb.netlab('plan', vni2);
    expect(plan.stdout).toMatch(/- link h1:flannel\.1 +flannel\.1: id 1 → 2 \(the kernel cannot change it in place\)/);
    expect(plan.stdout).not.toMatch(/veth|link h1:eth0/);
    await sb.netlabOk('apply', vni2);
    expect((await linkInfo('h1', 'flannel.1')).linkinfo?.info_data?.id).toBe(2);
    expect(await sb.ping('pod1', '10.244.2.2')).toBe(true);
    expect(await planExit(vni2)).toBe(0);

    await sb.netlabOk('destroy', vni2);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('script rebuilds the overlay with sh -e: plain ip link add ... type vxlan lines', async () => {
    const file = labFile(VXLAN_LAB);
    const script = await sb.netlabOk('script', file);
    expect(script.stdout).toContain('ip -n h1 link add name flannel.1 type vxlan id 1 local 192.0.2.1 remote 192.0.2.2 dstport 8472 nolearning dev eth0');
    const ran = await sb.run(['sh', '-e', '-s'], { input: script.stdout });
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(await sb.ping('pod1', '10.244.2.2')).toBe(true);
  });

  it('export writes the overlay and the macvlan shim to a file that applies back to the same kernel state', async () => {
    const overlay = labFile(VXLAN_LAB);
    await sb.netlabOk('apply', overlay);
    const shim = labFile(SHIM_LAB);
    await sb.netlabOk('apply', shim);
    const exported = await sb.netlabOk('export', '--name', 'again', 'h1', 'h2', 'pod1', 'pod2', 'dhost', 'lan');
    expect(exported.stdout).toMatch(/flannel\.1: \{kind: vxlan, parent: eth0, id: 1, local: 192\.0\.2\.1, remote: 192\.0\.2\.2, dstport: 8472, learning: false, addresses: \[10\.244\.1\.0\/32\]\}/);
    expect(exported.stdout).toMatch(/shim: \{kind: macvlan, parent: eth0, addresses: \[192\.168\.50\.200\/32\]\}/);
    const before = { h1: await linkInfo('h1', 'flannel.1'), dhost: await linkInfo('dhost', 'shim') };
    await sb.netlabOk('destroy', overlay);
    await sb.netlabOk('destroy', shim);
    const file = labFile(exported.stdout, 'exported.yaml');
    await sb.netlabOk('apply', file);
    expect((await linkInfo('h1', 'flannel.1')).linkinfo).toEqual(before.h1.linkinfo);
    expect((await linkInfo('dhost', 'shim')).linkinfo).toEqual(before.dhost.linkinfo);
    expect(await sb.ping('pod1', '10.244.2.2')).toBe(true);
    expect(await planExit(file)).toBe(0);
    await sb.netlabOk('destroy', file);
  });
});

/** Whether this kernel makes every one of these kinds: then the refusal cannot be seen here. */
async function kernelHasAll(): Promise<boolean> {
  const r = await execa('unshare', ['--net', 'sh', '-c', 'ip link add name d0 type dummy && ip link add name red type vrf table 10 && ip link add name bond0 type bond'], { reject: false });
  return r.exitCode === 0;
}

describe.skipIf(await kernelHasAll())('kinds this kernel lacks', () => {
  it('plan and apply refuse, naming the interface, its kind and the feature, and touch nothing', async () => {
    const file = labFile(`name: lacks
nodes:
  r1:
    interfaces:
      eth0: {addresses: [192.0.2.1/24]}
      eth0.10: {kind: vlan, parent: eth0, id: 10}
      d0: {kind: dummy, addresses: [203.0.113.1/32]}
      red: {kind: vrf, table: 10}
      bond0: {kind: bond, mode: active-backup}
      gre1: {kind: gre, local: 192.0.2.1, remote: 192.0.2.2}
      tun1: {kind: ipip, remote: 192.0.2.2}
      eth1: {master: red}
  r2:
    interfaces:
      eth0: {addresses: [192.0.2.2/24]}
links:
  - [r1:eth0, r2:eth0]
  - [r1:eth1, r2:eth1]
`);
    expect((await sb.netlab('validate', file)).exitCode).toBe(0);
    for (const command of ['plan', 'apply']) {
      const r = await sb.netlab(command, file);
      expect(r.exitCode, r.stdout).toBe(1);
      expect(r.stderr).toContain('r1:eth0.10: kind vlan needs 802.1Q VLAN support (module 8021q, CONFIG_VLAN_8021Q), which this kernel lacks');
      expect(r.stderr).toContain('r1:d0: kind dummy needs dummy interfaces (module dummy, CONFIG_DUMMY), which this kernel lacks');
      expect(r.stderr).toContain('r1:red: kind vrf needs VRF devices');
      expect(r.stderr).toContain('r1:bond0: kind bond needs bonding');
      expect(r.stderr).toContain('r1:gre1: kind gre needs GRE tunnels');
      expect(r.stderr).toContain('r1:tun1: kind ipip needs IPIP tunnels');
      expect(await sb.leftovers()).toEqual([]);
    }
  });
});
