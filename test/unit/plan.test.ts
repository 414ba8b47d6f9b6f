// diff, graph and command rendering: the pure core of plan and apply.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { commandsOf } from '../../src/kernel/commands.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState, type NodeState } from '../../src/model/types.js';
import type { Change } from '../../src/plan/change.js';
import { diff } from '../../src/plan/diff.js';
import { schedule } from '../../src/plan/graph.js';
import { renderPlan } from '../../src/plan/render.js';

const spec: LabSpec = {
  name: 'demo',
  nodes: {
    host: {
      sysctls: { 'net.ipv4.ip_forward': 1 },
      bridges: { br0: { addresses: ['172.18.0.1/16'] } },
    },
    c0: {
      interfaces: { eth0: { addresses: ['172.18.0.10/16', '2001:DB8::0010/64'] } },
      routes: [{ to: 'default', via: '172.18.0.1' }, { to: 'default', via: '2001:db8::1' }],
      dns: { nameservers: ['198.51.100.53'], search: ['lab.test'] },
    },
  },
  links: [['c0:eth0', 'host:br0']],
};

function nothing(lab: string, desired: LabState): LabState {
  return { lab, nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) };
}

/** The kernel state a successful apply of `desired` leaves, as read back. */
function appliedState(desired: LabState): LabState {
  const nodes = new Map<string, NodeState>();
  let index = 2;
  for (const [name, d] of desired.nodes) {
    const links = new Map(
      [...d.links].map(([ln, l]) => [ln, { ...l, mtu: l.mtu ?? 1500, mac: l.mac ?? '02:00:00:00:00:aa', peer: undefined, kernelPeer: undefined }]),
    );
    nodes.set(name, { ...d, owner: desired.lab, exists: true, loUp: true, links, routes: new Map(d.routes), sysctls: new Map(d.sysctls) });
  }
  // Give each veth pair mutually pointing ifindexes, as the kernel does.
  for (const [name, d] of desired.nodes) {
    for (const [ln, l] of d.links) {
      if (l.type !== 'veth' || nodes.get(name)!.links.get(ln)!.kernelPeer) continue;
      const a = index++;
      const b = index++;
      nodes.get(name)!.links.get(ln)!.kernelPeer = { ifindex: a, peerIfindex: b, peerNetnsId: 0 };
      nodes.get(l.peer!.node)!.links.get(l.peer!.name)!.kernelPeer = { ifindex: b, peerIfindex: a, peerNetnsId: 0 };
    }
  }
  return { lab: desired.lab, nodes };
}

const ids = (changes: Change[]) => changes.map((c) => `${c.action} ${c.id}`);

describe('diff', () => {
  const desired = resolveLab(spec);

  it('builds everything from nothing, in a readable order', () => {
    const plan = diff(desired, nothing('demo', desired));
    expect(ids(plan.changes)).toEqual([
      'create netns/c0',
      'create loopback/c0',
      'create veth/c0:eth0=host:c0-eth0',
      'create settings/c0:eth0',
      'create address/c0:eth0/172.18.0.10/16',
      'create address/c0:eth0/2001:db8::10/64',
      'create route/c0/inet default metric 0',
      'create route/c0/inet6 default metric 1024',
      'create dns/c0',
      'create netns/host',
      'create loopback/host',
      'create bridge/host:br0',
      'create settings/host:br0',
      'create settings/host:c0-eth0',
      'create address/host:br0/172.18.0.1/16',
      'create sysctl/host/net.ipv4.ip_forward',
    ]);
    expect(plan.conflicts).toEqual([]);
  });

  it('finds nothing to do once applied', () => {
    expect(diff(desired, appliedState(desired)).changes).toEqual([]);
  });

  it('repairs drift: a lost address, an added address, lo down, a changed route, a wrong sysctl', () => {
    const actual = appliedState(desired);
    const c0 = actual.nodes.get('c0')!;
    c0.links.get('eth0')!.addresses = ['10.0.0.5/8', '2001:db8::10/64'];
    c0.loUp = false;
    c0.routes.set('inet default metric 0', { family: 4, to: 'default', via: '172.18.0.99', metric: 0 });
    actual.nodes.get('host')!.sysctls.set('net.ipv4.ip_forward', '0');
    const plan = diff(desired, actual);
    expect(ids(plan.changes)).toEqual([
      'update loopback/c0',
      'delete address/c0:eth0/10.0.0.5/8',
      'create address/c0:eth0/172.18.0.10/16',
      'update route/c0/inet default metric 0',
      'update sysctl/host/net.ipv4.ip_forward',
    ]);
    expect(plan.changes.map((c) => c.reason)).toEqual([
      'lo down or unmarked',
      'address 10.0.0.5/8 on c0:eth0 is not in the file',
      'address 172.18.0.10/16 missing on c0:eth0',
      'route default via 172.18.0.99 → default via 172.18.0.1',
      'net.ipv4.ip_forward is 0, the file says 1',
    ]);
  });

  it('makes a veth again when its peer is not the one the file names', () => {
    const actual = appliedState(desired);
    actual.nodes.get('c0')!.links.get('eth0')!.kernelPeer = { ifindex: 2, peerIfindex: 77, peerNetnsId: 0 };
    const plan = diff(desired, actual);
    expect(ids(plan.changes)).toEqual([
      'delete link-delete/c0:eth0',
      'create veth/c0:eth0=host:c0-eth0',
      'create settings/c0:eth0',
      'create address/c0:eth0/172.18.0.10/16',
      'create address/c0:eth0/2001:db8::10/64',
      'delete link-delete/host:c0-eth0',
      'create settings/host:c0-eth0',
    ]);
  });

  it('reports a namespace owned by someone else as a conflict, not a change', () => {
    const actual = appliedState(desired);
    actual.nodes.get('c0')!.owner = undefined;
    actual.nodes.get('host')!.owner = 'other-lab';
    const plan = diff(desired, actual);
    expect(plan.conflicts.map((c) => c.reason)).toEqual([
      'namespace c0 already exists and belongs to something other than netlab — delete it (ip netns del c0) or give this lab a prefix',
      'namespace host already exists and belongs to lab other-lab — delete it (ip netns del host) or give this lab a prefix',
    ]);
    expect(plan.changes).toEqual([]);
    // A namespace its record lists but that has no mark yet is the lab's own: it only gets marked.
    const recorded = diff(desired, actual, { recorded: new Set(['c0']) });
    expect(ids(recorded.changes)).toEqual(['update loopback/c0']);
  });

  it('destroys by deleting whole namespaces, not their contents', () => {
    const plan = diff({ lab: 'demo', nodes: new Map() }, appliedState(desired));
    expect(ids(plan.changes)).toEqual(['delete netns/c0', 'delete dns/c0', 'delete netns/host']);
  });
});

describe('schedule', () => {
  it('takes two rounds for a whole lab: the root namespace, then every namespace at once', () => {
    const desired = resolveLab(spec);
    const { rounds } = schedule(diff(desired, nothing('demo', desired)).changes);
    const shape = rounds.map((round) => round.map((b) => `${b.scope.tool}@${b.scope.netns ?? 'root'}: ${b.changes.map((c) => c.kind).join(',')}`).sort());
    expect(shape).toEqual([
      ['ip@root: netns,netns,veth'],
      [
        'file@c0: dns',
        'ip@c0: loopback,address,address,settings,route,route',
        'ip@host: loopback,bridge,settings,settings,address',
        'sysctl@host: sysctl',
      ],
    ]);
  });

  it('orders a bridge before the port enslaved to it and addresses before routes', () => {
    const desired = resolveLab(spec);
    const { rounds } = schedule(diff(desired, nothing('demo', desired)).changes);
    const host = rounds[1]!.find((b) => b.scope.netns === 'host' && b.scope.tool === 'ip')!;
    const kinds = host.changes.map((c) => c.id);
    expect(kinds.indexOf('bridge/host:br0')).toBeLessThan(kinds.indexOf('settings/host:c0-eth0'));
  });
});

describe('commands', () => {
  it('renders ip-batch lines from validated values', () => {
    const desired = resolveLab(spec);
    const lines = diff(desired, nothing('demo', desired)).changes.flatMap((c) => commandsOf(c));
    expect(lines).toEqual([
      { tool: 'ip', line: 'netns add c0' },
      { tool: 'ip', line: 'link set dev lo up' },
      { tool: 'ip', line: 'link set dev lo alias netlab:demo' },
      { tool: 'ip', line: 'link add eth0 netns c0 type veth peer name c0-eth0 netns host' },
      { tool: 'ip', line: 'link set dev eth0 up' },
      { tool: 'ip', line: 'addr replace 172.18.0.10/16 dev eth0' },
      { tool: 'ip', line: 'addr replace 2001:db8::10/64 dev eth0 nodad' },
      { tool: 'ip', line: 'route replace default via 172.18.0.1 metric 0 proto 77' },
      { tool: 'ip', line: 'route replace ::/0 via 2001:db8::1 metric 1024 proto 77' },
      { tool: 'file', op: 'write', path: '/etc/netns/c0/resolv.conf', content: '# written by netlab\nnameserver 198.51.100.53\nsearch lab.test\n' },
      { tool: 'ip', line: 'netns add host' },
      { tool: 'ip', line: 'link set dev lo up' },
      { tool: 'ip', line: 'link set dev lo alias netlab:demo' },
      { tool: 'ip', line: 'link add br0 type bridge' },
      { tool: 'ip', line: 'link set dev br0 type bridge stp_state 0' },
      { tool: 'ip', line: 'link set dev br0 up' },
      { tool: 'ip', line: 'link set dev c0-eth0 master br0 up' },
      { tool: 'ip', line: 'addr replace 172.18.0.1/16 dev br0' },
      { tool: 'sysctl', assignment: 'net.ipv4.ip_forward=1' },
    ]);
  });
});

describe('render', () => {
  it('prints + ~ - with reasons and a count', () => {
    const desired = resolveLab(spec);
    const actual = appliedState(desired);
    actual.nodes.get('c0')!.links.get('eth0')!.addresses = ['10.0.0.5/8', '2001:db8::10/64'];
    const text = renderPlan(diff(desired, actual));
    expect(text).toContain('+ address 172.18.0.10/16 on c0:eth0');
    expect(text).toContain('- address 10.0.0.5/8 on c0:eth0');
    expect(text).toContain('Lab demo: 1 to create, 0 to change, 1 to delete.');
  });
});
