// L2 state on bridges, the pure parts: static forwarding entries (`fdb:`) and the VLANs of a
// VLAN-filtering bridge's ports — what the file wants, what `bridge -j` shows, how they compare,
// what the lab owns where it does not own the namespace, which nodes are read, the commands and
// what the kernel must have. The kernel tests are test/integration/fdb.test.ts,
// test/integration/bridge-vlans.test.ts and test/kernel-vm/vlan-bridge.test.ts.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { targetsOf } from '../../src/engine/read-targets.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type FdbState, type LabState, type NodeState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { schedule } from '../../src/plan/graph.js';
import { parseFdb } from '../../src/resources/fdb.js';
import { parseVlans } from '../../src/resources/port-vlans.js';
import { commandsOf, featureNeeds } from '../../src/resources/registry.js';
import { partialOwnership, recordAfterRun, recordBeforeRun } from '../../src/state/bookkeeping.js';
import { commandLines } from '../../src/views/script.js';

const fdbSpec: LabSpec = {
  name: 'l2',
  nodes: {
    sw: { bridges: { br0: {} }, fdb: [{ dev: 'c2-eth0', mac: '02:00:00:00:0C:02' }] },
    c1: { interfaces: { eth0: { addresses: ['198.51.100.1/24'] } } },
    c2: { interfaces: { eth0: { addresses: ['198.51.100.2/24'] } } },
  },
  links: [['c1:eth0', 'sw:br0'], { endpoints: ['c2:eth0', 'sw:br0'], port: { learning: false, flood: false } }],
};

const vlanSpec: LabSpec = {
  name: 'l2v',
  nodes: {
    sw: { bridges: { br0: { vlans: true } }, fdb: [{ dev: 'a-eth0', mac: '02:00:00:00:00:0a', vlan: 10 }] },
    a: { interfaces: { eth0: { addresses: ['198.51.100.1/24'] } } },
    t: { interfaces: { eth0: {} } },
    d: { interfaces: { eth0: {} } },
  },
  links: [{ endpoints: ['a:eth0', 'sw:br0'], port: { access: 10 } }, { endpoints: ['t:eth0', 'sw:br0'], port: { trunk: [20, 10], native: 5 } }, ['d:eth0', 'sw:br0']],
};

/** The kernel after an apply of `desired` (each veth pair pointing at each other), with `edit` done to node sw by hand. */
function applied(desired: LabState, edit: (sw: NodeState) => void = () => {}): LabState {
  const nodes = new Map<string, NodeState>();
  for (const [name, d] of desired.nodes) {
    const links = new Map([...d.links].map(([ln, l]) => [ln, { ...l, peer: undefined, kernelPeer: undefined }]));
    nodes.set(name, { ...d, owner: desired.lab, exists: true, loUp: true, links, fdb: new Map(d.fdb) } as NodeState);
  }
  let index = 2;
  for (const [name, d] of desired.nodes) {
    for (const [ln, l] of d.links) {
      if (l.type !== 'veth' || nodes.get(name)!.links.get(ln)!.kernelPeer) continue;
      const [a, b] = [index++, index++];
      nodes.get(name)!.links.get(ln)!.kernelPeer = { ifindex: a, peerIfindex: b, peerNetnsId: 0 };
      nodes.get(l.peer!.node)!.links.get(l.peer!.name)!.kernelPeer = { ifindex: b, peerIfindex: a, peerNetnsId: 0 };
    }
  }
  edit(nodes.get('sw')!);
  return { lab: desired.lab, nodes };
}

const planned = (plan: ReturnType<typeof diff>, kind: string) => plan.changes.filter((c) => c.kind === kind).map((c) => `${c.action} ${c.id}: ${c.reason}`);
const entry = (dev: string, mac: string, extra: Partial<FdbState> = { master: 'br0' }): FdbState => ({ dev, mac, ...extra });

describe('fdb', () => {
  const desired = resolveLab(fdbSpec);

  it('takes a file entry into the table of the bridge its port is on, MAC in lower case', () => {
    expect([...desired.nodes.get('sw')!.fdb]).toEqual([['br0 02:00:00:00:0c:02', entry('c2-eth0', '02:00:00:00:0c:02')]]);
  });

  it('writes a missing entry static once the port is enslaved, in its own bridge batch', () => {
    const plan = diff(desired, { lab: 'l2', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    const change = plan.changes.find((c) => c.kind === 'fdb')!;
    expect(planned(plan, 'fdb')).toEqual(['create fdb/sw:br0/02:00:00:00:0c:02: forwarding entry 02:00:00:00:0c:02 missing']);
    expect(commandsOf(change)).toEqual([{ tool: 'bridge', line: 'fdb replace 02:00:00:00:0c:02 dev c2-eth0 master static' }]);
    expect(commandLines(commandsOf(change)[0]!, 'sw')).toEqual(['bridge -n sw fdb replace 02:00:00:00:0c:02 dev c2-eth0 master static']);
    const steps = schedule(plan.changes);
    expect(steps.deps.get(change.id)).toContain('settings/sw:c2-eth0');
    expect(steps.rounds.at(-1)!.map((b) => b.scope)).toContainEqual({ tool: 'bridge', netns: 'sw' });
  });

  it('plans nothing when the kernel has it, moves it back to its port, and deletes a static entry the file lacks', () => {
    expect(planned(diff(desired, applied(desired)), 'fdb')).toEqual([]);
    const moved = applied(desired, (sw) => sw.fdb.set('br0 02:00:00:00:0c:02', entry('c1-eth0', '02:00:00:00:0c:02')));
    expect(planned(diff(desired, moved), 'fdb')).toEqual(['update fdb/sw:br0/02:00:00:00:0c:02: 02:00:00:00:0c:02 is behind c1-eth0, the file says c2-eth0']);
    const extra = applied(desired, (sw) => sw.fdb.set('br0 02:00:00:00:00:99', entry('c1-eth0', '02:00:00:00:00:99')));
    const plan = diff(desired, extra);
    expect(planned(plan, 'fdb')).toEqual(['delete fdb/sw:br0/02:00:00:00:00:99: forwarding entry 02:00:00:00:00:99 on c1-eth0 is not in the file']);
    expect(commandsOf(plan.changes.find((c) => c.kind === 'fdb')!)).toEqual([{ tool: 'bridge', line: 'fdb del 02:00:00:00:00:99 dev c1-eth0 master' }]);
  });

  it('sets an entry again when its port is made again', () => {
    const remade = applied(desired, (sw) => (sw.links.get('c2-eth0')!.type = 'other'));
    expect(planned(diff(desired, remade), 'fdb')).toEqual(['update fdb/sw:br0/02:00:00:00:0c:02: goes with c2-eth0, made again; set again']);
  });

  it('reads only what the lab could have written: not learned entries, ports\' own MACs or the multicast list', () => {
    const node = emptyNode('sw', 'sw', true);
    parseFdb(
      [
        { mac: '33:33:00:00:00:01', ifname: 'br0', flags: ['self'], state: 'permanent' },
        { mac: '02:00:00:00:0C:02', ifname: 'c2-eth0', flags: [], master: 'br0', state: 'static' },
        { mac: '02:00:00:00:00:07', ifname: 'c2-eth0', flags: [], master: 'br0', state: 'static', vlan: 7 },
        { mac: '0e:72:b8:bc:44:a5', ifname: 'c1-eth0', flags: [], master: 'br0', state: 'permanent' },
        { mac: '02:00:00:00:00:09', ifname: 'c1-eth0', flags: [], master: 'br0', state: '' },
        { mac: '00:00:00:00:00:00', ifname: 'vx0', dst: '192.0.2.2', flags: ['self'], state: 'permanent' },
        { mac: '02:00:00:00:00:0b', ifname: 'vx0', dst: '192.0.2.3', flags: ['self'], state: '' },
      ],
      node,
    );
    expect([...node.fdb.keys()]).toEqual(['br0 02:00:00:00:0c:02', 'br0 02:00:00:00:00:07 vlan 7', 'vx0 00:00:00:00:00:00 dst 192.0.2.2']);
  });

  it('appends and deletes VXLAN remotes in the device\'s own table, several per MAC', () => {
    const spec: LabSpec = { name: 'vx', nodes: { root: { kind: 'host', fdb: [{ dev: 'vx9', mac: '00:00:00:00:00:00', dst: '192.0.2.50' }, { dev: 'vx9', mac: '00:00:00:00:00:00', dst: '192.0.2.51' }] } } };
    const want = resolveLab(spec);
    expect([...want.nodes.get('root')!.fdb.keys()]).toEqual(['vx9 00:00:00:00:00:00 dst 192.0.2.50', 'vx9 00:00:00:00:00:00 dst 192.0.2.51']);
    const machine = emptyNode('root', null, true, 'host');
    const plan = diff(want, { lab: 'vx', nodes: new Map([['root', machine]]) });
    expect(plan.changes.filter((c) => c.kind === 'fdb').flatMap((c) => commandsOf(c))).toEqual([
      { tool: 'bridge', line: 'fdb append 00:00:00:00:00:00 dev vx9 dst 192.0.2.50 self permanent' },
      { tool: 'bridge', line: 'fdb append 00:00:00:00:00:00 dev vx9 dst 192.0.2.51 self permanent' },
    ]);
  });

  describe('in the root namespace (kind host)', () => {
    const hostSpec: LabSpec = { name: 'vx', nodes: { root: { kind: 'host', fdb: [{ dev: 'vx9', mac: '00:00:00:00:00:00', dst: '192.0.2.50' }] } } };
    const hostDesired = resolveLab(hostSpec);
    const machine = (fill: (n: NodeState) => void) => {
      const node = emptyNode('root', null, true, 'host');
      node.fdb.set('vx9 00:00:00:00:00:00 dst 192.0.2.60', entry('vx9', '00:00:00:00:00:00', { dst: '192.0.2.60' }));
      fill(node);
      return { lab: 'vx', nodes: new Map([['root', node]]) };
    };

    it("leaves the machine's entries alone, and refuses to take over one the file names", () => {
      expect(planned(diff(hostDesired, machine(() => {})), 'fdb')).toEqual(['create fdb/root:vx9/00:00:00:00:00:00/dst/192.0.2.50: forwarding entry 00:00:00:00:00:00 via 192.0.2.50 missing']);
      const clash = machine((n) => n.fdb.set('vx9 00:00:00:00:00:00 dst 192.0.2.50', entry('vx9', '00:00:00:00:00:00', { dst: '192.0.2.50' })));
      expect(diff(hostDesired, clash).conflicts.map((c) => c.reason)).toEqual([expect.stringMatching(/^forwarding entry 00:00:00:00:00:00 via 192.0.2.50 on root:vx9 already exists and is not the lab's/)]);
    });

    it('lists its entries in the record, reads the node while the record has them, and removes only those once the file drops them', () => {
      const before = machine(() => {});
      const plan = diff(hostDesired, before);
      const during = recordBeforeRun(undefined, hostDesired, before, plan.changes, 'lab.yaml');
      expect(during.nodes.root!.objects).toEqual({ fdb: ['vx9 00:00:00:00:00:00 dst 192.0.2.50'] });
      expect(during.nodes.root!.bridgeReads).toEqual(['fdb']);
      const after = machine((n) => n.fdb.set('vx9 00:00:00:00:00:00 dst 192.0.2.50', entry('vx9', '00:00:00:00:00:00', { dst: '192.0.2.50' })));
      const record = recordAfterRun(during, hostDesired, after);
      const dropped = resolveLab({ name: 'vx', nodes: { root: { kind: 'host' } } });
      expect(targetsOf(dropped, record)[0]!.bridgeReads).toEqual(['fdb show']);
      expect(planned(diff(dropped, after, { partial: partialOwnership(record) }), 'fdb')).toEqual(['delete fdb/root:vx9/00:00:00:00:00:00/dst/192.0.2.50: forwarding entry 00:00:00:00:00:00 via 192.0.2.50 on vx9 is not in the file']);
      // Without the record's word no entry is the lab's.
      expect(planned(diff(dropped, after), 'fdb')).toEqual([]);
    });
  });

  it('reads the bridge tables only of nodes whose file or record has something in them', () => {
    const targets = targetsOf(desired, undefined);
    expect(targets.map((t) => [t.node, t.bridgeReads])).toEqual([
      ['c1', undefined],
      ['c2', undefined],
      ['sw', ['fdb show']],
    ]);
    expect(targetsOf(resolveLab(vlanSpec), undefined).find((t) => t.node === 'sw')!.bridgeReads).toEqual(['vlan show', 'fdb show']);
  });
});

describe('port VLANs', () => {
  const desired = resolveLab(vlanSpec);
  const sw = desired.nodes.get('sw')!;

  it('turns access, trunk and native into memberships, and gives a port without them the kernel\'s VLAN 1', () => {
    expect(sw.links.get('br0')!.vlanFiltering).toBe(true);
    expect([...sw.links.get('a-eth0')!.vlans!]).toEqual([[10, { pvid: true, untagged: true }]]);
    expect([...sw.links.get('t-eth0')!.vlans!]).toEqual([
      [20, { pvid: false, untagged: false }],
      [10, { pvid: false, untagged: false }],
      [5, { pvid: true, untagged: true }],
    ]);
    expect([...sw.links.get('d-eth0')!.vlans!]).toEqual([[1, { pvid: true, untagged: true }]]);
    expect(resolveLab(fdbSpec).nodes.get('sw')!.links.get('c1-eth0')!.vlans).toBeUndefined();
  });

  it('turns filtering on and sets a new port\'s VLANs after it is enslaved, VLAN 1 left first', () => {
    const plan = diff(desired, { lab: 'l2v', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    expect(plan.changes.find((c) => c.id === 'settings/sw:br0')!.reason).toContain('vlan filtering on');
    expect(commandsOf(plan.changes.find((c) => c.id === 'settings/sw:br0')!)).toContainEqual({ tool: 'ip', line: 'link set dev br0 type bridge vlan_filtering 1' });
    expect(planned(plan, 'vlans')).toEqual([
      'create vlans/sw:a-eth0: new port: VLAN 10 (pvid, untagged)',
      'create vlans/sw:t-eth0: new port: VLAN 5 (pvid, untagged), 10 (tagged), 20 (tagged)',
    ]);
    const trunk = plan.changes.find((c) => c.id === 'vlans/sw:t-eth0')!;
    expect(commandsOf(trunk).map((c) => (c as { line: string }).line)).toEqual(['vlan del vid 1 dev t-eth0', 'vlan add vid 5 dev t-eth0 pvid untagged', 'vlan add vid 10 dev t-eth0', 'vlan add vid 20 dev t-eth0']);
    const steps = schedule(plan.changes);
    expect(steps.deps.get('vlans/sw:t-eth0')).toEqual(expect.arrayContaining(['settings/sw:t-eth0', 'settings/sw:br0']));
    expect(steps.deps.get('fdb/sw:br0/02:00:00:00:00:0a/vlan/10')).toContain('vlans/sw:a-eth0');
  });

  it('plans nothing when the ports have their VLANs, and repairs one changed by hand', () => {
    expect(planned(diff(desired, applied(desired)), 'vlans')).toEqual([]);
    const edited = applied(desired, (n) => n.links.set('a-eth0', { ...n.links.get('a-eth0')!, vlans: new Map([[10, { pvid: true, untagged: true }], [30, { pvid: false, untagged: false }]]) }));
    const plan = diff(desired, edited);
    expect(planned(plan, 'vlans')).toEqual(['update vlans/sw:a-eth0: a-eth0: VLAN 10 (pvid, untagged), 30 (tagged) → VLAN 10 (pvid, untagged)']);
    expect(commandsOf(plan.changes.find((c) => c.kind === 'vlans')!)).toEqual([{ tool: 'bridge', line: 'vlan del vid 30 dev a-eth0' }]);
  });

  it('reads each port\'s VLANs from `bridge -j vlan show`, ranges spread, the bridge\'s own left out, a port it omits in none', () => {
    const node = applied(desired).nodes.get('sw')!;
    parseVlans(
      [
        { ifname: 'br0', vlans: [{ vlan: 1, flags: ['PVID', 'Egress Untagged'] }] },
        { ifname: 'a-eth0', vlans: [{ vlan: 10, flags: ['PVID', 'Egress Untagged'] }] },
        { ifname: 't-eth0', vlans: [{ vlan: 10, vlanEnd: 12 }] },
      ],
      node,
    );
    expect(node.links.get('br0')!.vlans).toBeUndefined();
    expect([...node.links.get('a-eth0')!.vlans!]).toEqual([[10, { pvid: true, untagged: true }]]);
    expect([...node.links.get('t-eth0')!.vlans!.keys()]).toEqual([10, 11, 12]);
    expect([...node.links.get('d-eth0')!.vlans!]).toEqual([]);
    expect(planned(diff(desired, { lab: 'l2v', nodes: new Map([...applied(desired).nodes, ['sw', node]]) }), 'vlans')).toContainEqual('update vlans/sw:d-eth0: d-eth0: no VLAN → VLAN 1 (pvid, untagged)');
  });

  it('needs VLAN filtering of the kernel, once per bridge that has it', () => {
    expect(featureNeeds(desired)).toEqual([{ feature: 'vlan-filtering', object: 'sw:br0', key: 'vlans: true' }]);
    expect(featureNeeds(resolveLab(fdbSpec))).toEqual([]);
  });
});
