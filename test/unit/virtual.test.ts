// Interfaces a node makes by kind (macvlan, vxlan, ...), the pure parts: what the file wants, how
// `ip -d -j link` reads back, the commands, what changes in place and what is made again, the
// order of deletes, the kernel features each needs, and the graph. The kernel test is
// test/integration/virtual-interfaces.test.ts.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { parseNode, type IpLinkJson } from '../../src/kernel/parse.js';
import { resolveLab } from '../../src/model/resolve.js';
import { addLine, setLine } from '../../src/model/virtual.js';
import { emptyNode, type LabState, type LinkState, type NodeState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { schedule } from '../../src/plan/graph.js';
import { commandsOf, resourceOf } from '../../src/resources/registry.js';
import { virtualResource } from '../../src/resources/virtual.js';
import { renderMermaid } from '../../src/views/graph.js';

const spec: LabSpec = {
  name: 'vk',
  nodes: {
    h: {
      interfaces: {
        eth0: { addresses: ['192.0.2.1/24'] },
        shim: { kind: 'macvlan', parent: 'eth0', mode: 'bridge', addresses: ['192.0.2.200/32'] },
        vx0: { kind: 'vxlan', id: 42, local: '192.0.2.1', remote: '192.0.2.2', parent: 'eth0', learning: false, addresses: ['10.9.0.1/24'] },
      },
    },
    o: {
      interfaces: {
        eth0: { addresses: ['192.0.2.2/24'] },
        vx0: { kind: 'vxlan', id: 42, local: '192.0.2.2', remote: '192.0.2.1', parent: 'eth0', learning: false, addresses: ['10.9.0.2/24'] },
      },
    },
    c: { interfaces: { eth0: { kind: 'macvlan', parent: 'h:eth0', addresses: ['192.0.2.66/24'] } } },
  },
  links: [['h:eth0', 'o:eth0']],
};

/** The kernel after an apply of `desired`, with `edit` done by hand. */
function applied(desired: LabState, edit: (nodes: Map<string, NodeState>) => void = () => {}): LabState {
  const nodes = new Map<string, NodeState>();
  for (const [name, d] of desired.nodes) {
    const links = new Map<string, LinkState>(
      [...d.links].map(([ln, l]): [string, LinkState] => {
        if (l.type === 'veth') return [ln, { ...l, peer: undefined, kernelPeer: { ifindex: name === 'h' ? 2 : 3, peerIfindex: name === 'h' ? 3 : 2, peerNetnsId: 0 } }];
        const v = l.virtual!;
        const across = v.parent !== undefined && v.parent.node !== name;
        return [ln, { ...l, virtual: { kind: v.kind, settings: { ...v.settings }, ...(across ? { parentElsewhere: true } : v.parent ? { parent: { ...v.parent } } : {}) } }];
      }),
    );
    nodes.set(name, { ...d, owner: desired.lab, exists: true, loUp: true, links });
  }
  edit(nodes);
  return { lab: desired.lab, nodes };
}

const lines = (plan: ReturnType<typeof diff>) => plan.changes.filter((c) => c.kind === 'virtual' || c.kind === 'link').map((c) => `${c.action} ${c.id}: ${c.reason}`);

describe('interfaces made by kind', () => {
  const desired = resolveLab(spec);

  it('resolves each with its kind, parent and settings, the kernel defaults filled', () => {
    expect(desired.nodes.get('h')!.links.get('vx0')).toMatchObject({
      type: 'virtual',
      virtual: { kind: 'vxlan', parent: { node: 'h', name: 'eth0' }, settings: { id: 42, local: '192.0.2.1', remote: '192.0.2.2', dstport: 4789, learning: false } },
      addresses: ['10.9.0.1/24'],
    });
    expect(desired.nodes.get('c')!.links.get('eth0')!.virtual).toEqual({ kind: 'macvlan', parent: { node: 'h', name: 'eth0' }, settings: { mode: 'bridge' } });
  });

  it('reads them back from ip -d -j link: kind, parent, settings; across namespaces the parent is elsewhere', () => {
    const json: IpLinkJson[] = [
      { ifindex: 4, ifname: 'shim', link: 'eth0', flags: ['UP'], linkinfo: { info_kind: 'macvlan', info_data: { mode: 'bridge' } } },
      { ifindex: 5, ifname: 'vx0', flags: ['UP'], linkinfo: { info_kind: 'vxlan', info_data: { id: 42, remote: '192.0.2.2', local: '192.0.2.1', link: 'eth0', port: 4789, learning: false, ttl: 0 } } },
      { ifindex: 2, ifname: 'eth0', link_index: 2, link_netnsid: 0, flags: ['UP'], linkinfo: { info_kind: 'macvlan', info_data: { mode: 'private' } } },
    ];
    const node = parseNode('h', 'h', { links: json, routes4: [], routes6: [] });
    expect(node.links.get('shim')!.virtual).toEqual({ kind: 'macvlan', parent: { node: 'h', name: 'eth0' }, settings: { mode: 'bridge' } });
    expect(node.links.get('vx0')!.virtual).toEqual({ kind: 'vxlan', parent: { node: 'h', name: 'eth0' }, settings: { id: 42, local: '192.0.2.1', remote: '192.0.2.2', dstport: 4789, learning: false } });
    expect(node.links.get('eth0')!.virtual).toEqual({ kind: 'macvlan', parentElsewhere: true, settings: { mode: 'private' } });
  });

  it('makes each with the line a person types, a macvlan for another node from the parent\'s namespace', () => {
    const plan = diff(desired, { lab: 'vk', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    const made = plan.changes.filter((c) => c.kind === 'virtual');
    expect(made.map((c) => [resourceOf(c).scope(c).netns, commandsOf(c)[0]])).toEqual([
      ['h', { tool: 'ip', line: 'link add name eth0 link eth0 netns c type macvlan mode bridge' }],
      ['h', { tool: 'ip', line: 'link add name shim link eth0 type macvlan mode bridge' }],
      ['h', { tool: 'ip', line: 'link add name vx0 type vxlan id 42 local 192.0.2.1 remote 192.0.2.2 dstport 4789 nolearning dev eth0' }],
      ['o', { tool: 'ip', line: 'link add name vx0 type vxlan id 42 local 192.0.2.2 remote 192.0.2.1 dstport 4789 nolearning dev eth0' }],
    ]);
    // After the parent, and before its own settings and addresses.
    const deps = schedule(plan.changes).deps;
    expect(deps.get('virtual/c:eth0')).toEqual(expect.arrayContaining(['veth/h:eth0=o:eth0', 'netns/c', 'netns/h']));
    expect(deps.get('settings/c:eth0')).toContain('virtual/c:eth0');
  });

  it('plans nothing when the kernel has them', () => {
    expect(lines(diff(desired, applied(desired)))).toEqual([]);
  });

  it('sets a macvlan mode and a vxlan learning in place, with the reason', () => {
    const drifted = applied(desired, (nodes) => {
      nodes.get('h')!.links.get('shim')!.virtual!.settings.mode = 'private';
      nodes.get('o')!.links.get('vx0')!.virtual!.settings.learning = true;
    });
    const plan = diff(desired, drifted);
    expect(lines(plan)).toEqual(['update virtual/h:shim: shim: mode private → mode bridge', 'update virtual/o:vx0: vx0: learning true → learning false']);
    expect(plan.changes.filter((c) => c.kind === 'virtual').map((c) => commandsOf(c)[0]!)).toEqual([
      { tool: 'ip', line: 'link set dev shim type macvlan mode bridge' },
      { tool: 'ip', line: 'link set dev vx0 type vxlan nolearning' },
    ]);
  });

  it('makes one again alone when the kernel cannot change a setting in place (a VNI)', () => {
    const drifted = applied(desired, (nodes) => {
      nodes.get('h')!.links.get('vx0')!.virtual!.settings.id = 43;
    });
    expect(lines(diff(desired, drifted))).toEqual([
      'delete link/h:vx0: vx0: id 43 → 42 (the kernel cannot change it in place)',
      'create virtual/h:vx0: vx0: id 43 → 42 (the kernel cannot change it in place)',
    ]);
  });

  it('makes the children of a parent made again, deleting each child before its parent', () => {
    const drifted = applied(desired, (nodes) => {
      // h:eth0 is joined to something else: the veth pair is made again.
      nodes.get('h')!.links.get('eth0')!.kernelPeer = { ifindex: 2, peerIfindex: 9, peerNetnsId: 0 };
    });
    const plan = diff(desired, drifted);
    expect(lines(plan)).toEqual(expect.arrayContaining(['delete link/c:eth0: its parent h:eth0 is made again', 'create virtual/h:shim: its parent h:eth0 is made again']));
    const deps = schedule(plan.changes).deps;
    expect(deps.get('link/h:eth0')).toEqual(expect.arrayContaining(['link/c:eth0', 'link/h:shim', 'link/h:vx0']));
  });

  it('enslaves a bond member while it is down, then brings it up (a bond refuses a member that is up)', () => {
    const bonded = resolveLab({ name: 'vk', nodes: { s: { interfaces: { bond0: { kind: 'bond', mode: 'active-backup' }, eth0: { master: 'bond0' } } }, o: {} }, links: [['s:eth0', 'o:eth0']] });
    const plan = diff(bonded, { lab: 'vk', nodes: new Map([...bonded.nodes].map(([n, st]) => [n, emptyNode(n, st.netns, false)])) });
    const settings = plan.changes.find((c) => c.kind === 'settings' && c.node === 's' && c.name === 'eth0')!;
    expect(commandsOf(settings).map((c) => (c.tool === 'ip' ? c.line : ''))).toEqual(['link set dev eth0 addrgenmode none', 'link set dev eth0 master bond0', 'link set dev eth0 up']);
    expect(resourceOf(settings).summary(settings)).toBe('link s:eth0: master bond0, up, linkLocal false');
    const bond = plan.changes.find((c) => c.kind === 'virtual')!;
    expect(commandsOf(bond)).toEqual([{ tool: 'ip', line: 'link add name bond0 type bond mode active-backup miimon 100' }]);
  });

  it('needs the kernel feature of its kind, named by object and key', () => {
    const needs = virtualResource.needs!(resolveLab({ name: 'vk', nodes: { r: { interfaces: { d0: { kind: 'dummy' }, red: { kind: 'vrf', table: 10 } } } } }).nodes.get('r')!);
    expect(needs).toEqual([
      { feature: 'dummy', object: 'r:d0', key: 'kind dummy' },
      { feature: 'vrf', object: 'r:red', key: 'kind vrf' },
    ]);
  });

  it('writes the other kinds as ip link add does', () => {
    expect(addLine('eth0.10', { kind: 'vlan', parent: { node: 'r', name: 'eth0' }, settings: { id: 10 } }, undefined)).toBe('link add name eth0.10 link eth0 type vlan id 10');
    expect(addLine('red', { kind: 'vrf', settings: { table: 10 } }, undefined)).toBe('link add name red type vrf table 10');
    expect(addLine('bond0', { kind: 'bond', settings: { mode: 'active-backup' } }, undefined)).toBe('link add name bond0 type bond mode active-backup');
    expect(addLine('gre1', { kind: 'gre', settings: { local: '192.0.2.1', remote: '192.0.2.2' } }, undefined)).toBe('link add name gre1 type gre local 192.0.2.1 remote 192.0.2.2');
    expect(addLine('d0', { kind: 'dummy', settings: {} }, undefined)).toBe('link add name d0 type dummy');
    expect(setLine('vx0', 'vxlan', { learning: true })).toBe('link set dev vx0 type vxlan learning');
  });

  it('draws a VXLAN as an overlay edge between the nodes whose addresses match, and a macvlan from its parent node', () => {
    const mermaid = renderMermaid(spec);
    expect(mermaid).toMatch(/n2 -\.-\|"vxlan 42: h:vx0 ⇢ o:vx0"\| n3/);
    expect(mermaid).toMatch(/n2 -\.-\|"macvlan c:eth0 of h:eth0"\| n1/);
    expect(mermaid).toContain('shim: macvlan on eth0 (mode bridge)');
  });
});
