// Static neighbour entries (`neighbors:`), the pure parts: what the file wants, what the read
// batch shows, how they compare, what the lab owns where it does not own the namespace, and the
// commands. The kernel test is test/integration/neighbors.test.ts.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { parseNode } from '../../src/kernel/parse.js';
import { parseReadOutput, READ_LINES } from '../../src/kernel/read.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState, type NeighborState, type NodeState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { schedule } from '../../src/plan/graph.js';
import { commandsOf, IP_READS } from '../../src/resources/registry.js';
import { partialOwnership, recordAfterRun, recordBeforeRun } from '../../src/state/bookkeeping.js';
import { exportLab } from '../../src/views/export.js';
import { parse as parseYaml } from 'yaml';

const spec: LabSpec = {
  name: 'nb',
  nodes: {
    a: { interfaces: { eth0: { addresses: ['192.0.2.1/24'] } }, neighbors: [{ dev: 'eth0', address: '192.0.2.2', mac: '02:00:00:00:00:0B' }] },
    b: { interfaces: { eth0: { addresses: ['192.0.2.2/24'] } } },
  },
  links: [['a:eth0', 'b:eth0']],
};

const entry = (address: string, mac: string, protocol?: string): NeighborState => ({ dev: 'eth0', address, mac, ...(protocol ? { protocol } : {}) });

/** The kernel after an apply of `desired`, with `edit` done to node a by hand. */
function applied(desired: LabState, edit: (a: NodeState) => void = () => {}): LabState {
  const nodes = new Map<string, NodeState>();
  for (const [name, d] of desired.nodes) {
    const links = new Map([...d.links].map(([ln, l]) => [ln, { ...l, peer: undefined, kernelPeer: { ifindex: name === 'a' ? 2 : 3, peerIfindex: name === 'a' ? 3 : 2, peerNetnsId: 0 } }]));
    nodes.set(name, { ...d, owner: desired.lab, exists: true, loUp: true, links, neighbors: new Map([...d.neighbors].map(([k, n]) => [k, { ...n, protocol: '77' }])) });
  }
  edit(nodes.get('a')!);
  return { lab: desired.lab, nodes };
}

const ids = (plan: ReturnType<typeof diff>) => plan.changes.filter((c) => c.kind === 'neighbor').map((c) => `${c.action} ${c.id}: ${c.reason}`);

describe('neighbors', () => {
  const desired = resolveLab(spec);

  it('takes the file entries with canonical address and lower-case MAC', () => {
    expect([...desired.nodes.get('a')!.neighbors.values()]).toEqual([entry('192.0.2.2', '02:00:00:00:00:0b')]);
  });

  it('makes a missing entry permanent, marked as the lab\'s, once its link exists', () => {
    const plan = diff(desired, { lab: 'nb', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    const change = plan.changes.find((c) => c.kind === 'neighbor')!;
    expect(ids(plan)).toEqual(['create neighbor/a:eth0/192.0.2.2: neighbour 192.0.2.2 at 02:00:00:00:00:0b missing']);
    expect(commandsOf(change)).toEqual([{ tool: 'ip', line: 'neigh replace 192.0.2.2 lladdr 02:00:00:00:00:0b dev eth0 nud permanent proto 77' }]);
    expect(schedule(plan.changes).deps.get(change.id)).toContain('veth/a:eth0=b:eth0');
  });

  it('plans nothing when the kernel has it, and repairs a MAC changed by hand', () => {
    expect(ids(diff(desired, applied(desired)))).toEqual([]);
    const edited = applied(desired, (a) => a.neighbors.set('eth0 192.0.2.2', entry('192.0.2.2', '02:00:00:00:00:99')));
    expect(ids(diff(desired, edited))).toEqual(['update neighbor/a:eth0/192.0.2.2: neighbour 192.0.2.2 is at 02:00:00:00:00:99, the file says 02:00:00:00:00:0b']);
  });

  it("removes a permanent entry the file does not list in the lab's own namespace, and its command says which", () => {
    const plan = diff(desired, applied(desired, (a) => a.neighbors.set('eth0 192.0.2.9', entry('192.0.2.9', '02:00:00:00:00:09'))));
    expect(ids(plan)).toEqual(['delete neighbor/a:eth0/192.0.2.9: neighbour 192.0.2.9 at 02:00:00:00:00:09 is not in the file']);
    expect(commandsOf(plan.changes.find((c) => c.kind === 'neighbor')!)).toEqual([{ tool: 'ip', line: 'neigh del 192.0.2.9 dev eth0' }]);
  });

  it('sets an entry again when its link is made again, which takes the entry with it', () => {
    const plan = diff(desired, applied(desired, (a) => (a.links.get('eth0')!.type = 'other')));
    expect(ids(plan)).toEqual(['update neighbor/a:eth0/192.0.2.2: goes with eth0, made again; set again']);
  });

  it('reads permanent entries from their answer in the read batch, before the four that are always last', () => {
    const line = READ_LINES.indexOf('neigh show nud permanent');
    expect(line).toBeLessThan(READ_LINES.length - 4);
    const answers: unknown[][] = READ_LINES.map(() => []);
    answers[line] = [{ dst: '192.0.2.2', dev: 'eth0', lladdr: '02:00:00:00:00:0B', state: ['PERMANENT'], protocol: '77' }, { dst: '192.0.2.7', dev: 'eth0', lladdr: '02:00:00:00:00:07', state: ['REACHABLE'] }, { dst: '2001:DB8::2', dev: 'eth0', lladdr: '02:00:00:00:00:0c', state: ['PERMANENT'] }];
    const node = parseNode('a', 'a', parseReadOutput(answers.map((a) => JSON.stringify(a)).join('\n')), 'netns');
    expect([...node.neighbors.values()]).toEqual([entry('192.0.2.2', '02:00:00:00:00:0b', '77'), entry('2001:db8::2', '02:00:00:00:00:0c')]);
  });

  describe('in the root namespace (kind host)', () => {
    const hostSpec: LabSpec = { name: 'nb', nodes: { root: { kind: 'host', interfaces: { eth9: { addresses: ['192.0.2.1/24'] } }, neighbors: [{ dev: 'eth9', address: '192.0.2.2', mac: '02:00:00:00:00:0b' }] } } };
    const hostDesired = resolveLab(hostSpec);
    const machine = (fill: (n: NodeState) => void) => {
      const node = emptyNode('root', null, true, 'host');
      node.links.set('eth9', { name: 'eth9', type: 'other', addresses: [], up: true, master: null });
      fill(node);
      return { lab: 'nb', nodes: new Map([['root', node]]) };
    };

    it("leaves the machine's own entries alone, and refuses to take over one the file names", () => {
      const theirs = machine((n) => n.neighbors.set('eth9 192.0.2.5', { dev: 'eth9', address: '192.0.2.5', mac: '02:00:00:00:00:05' }));
      expect(ids(diff(hostDesired, theirs))).toEqual(['create neighbor/root:eth9/192.0.2.2: neighbour 192.0.2.2 at 02:00:00:00:00:0b missing']);
      const clash = machine((n) => n.neighbors.set('eth9 192.0.2.2', { dev: 'eth9', address: '192.0.2.2', mac: '02:00:00:00:00:05' }));
      expect(diff(hostDesired, clash).conflicts.map((c) => c.reason)).toEqual([expect.stringMatching(/^neighbour 192.0.2.2 on root:eth9 already exists and is not the lab's/)]);
    });

    it('lists its entries in the record before the run, and removes them once the file drops them', () => {
      const before = machine(() => {});
      const plan = diff(hostDesired, before);
      const during = recordBeforeRun(undefined, hostDesired, before, plan.changes, 'lab.yaml');
      expect(during.nodes.root!.objects).toEqual({ neighbor: ['eth9 192.0.2.2'] });
      const after = machine((n) => n.neighbors.set('eth9 192.0.2.2', { dev: 'eth9', address: '192.0.2.2', mac: '02:00:00:00:00:0b', protocol: '77' }));
      const record = recordAfterRun(during, hostDesired, after);
      expect(record.nodes.root!.objects).toEqual({ neighbor: ['eth9 192.0.2.2'] });
      const dropped = resolveLab({ name: 'nb', nodes: { root: { kind: 'host', interfaces: { eth9: { addresses: ['192.0.2.1/24'] } } } } });
      expect(ids(diff(dropped, after, { partial: partialOwnership(record) }))).toEqual(['delete neighbor/root:eth9/192.0.2.2: neighbour 192.0.2.2 at 02:00:00:00:00:0b is not in the file']);
      // Without the record's word an entry marked 77 could be another lab's: it stays.
      expect(ids(diff(dropped, after))).toEqual([]);
    });
  });

  it('exports permanent entries on exported interfaces as the file writes them', () => {
    const state = parseNode('a', 'a', {
      links: [{ ifindex: 2, ifname: 'eth0', flags: ['UP'], linkinfo: { info_kind: 'bridge' }, addr_info: [{ family: 'inet', local: '192.0.2.1', prefixlen: 24, scope: 'global' }] }],
      routes4: [],
      routes6: [],
      resourceAnswers: IP_READS.map((r) => (r.line.startsWith('neigh') ? [{ dst: '192.0.2.2', dev: 'eth0', lladdr: '02:00:00:00:00:0b', state: ['PERMANENT'] }, { dst: '192.0.2.3', dev: 'gone0', lladdr: '02:00:00:00:00:0c', state: ['PERMANENT'] }] : [])),
    });
    const text = exportLab([{ netns: 'a', state, nsids: new Map() }], { exportedAt: new Date(0) });
    expect((parseYaml(text) as LabSpec).nodes.a!.neighbors).toEqual([{ dev: 'eth0', address: '192.0.2.2', mac: '02:00:00:00:00:0b' }]);
  });
});
