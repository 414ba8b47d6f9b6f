// diff, graph and command rendering: the pure core of plan and apply.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { commandsOf } from '../../src/resources/registry.js';
import { parseNode } from '../../src/kernel/parse.js';
import { ambiguousVethNodes, isVethPairedWith } from '../../src/resources/veth-pairing.js';
import { parseReadOutput } from '../../src/kernel/read.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState, type NodeState } from '../../src/model/types.js';
import type { Change } from '../../src/plan/change.js';
import { diff } from '../../src/plan/diff.js';
import { fewestCovering, waitingForCarrier } from '../../src/plan/carrier.js';
import { interfaceSysctl } from '../../src/resources/dad.js';
import { schedule, settledByOwnLastBatch, sysctlsSettledByOwnLastBatch } from '../../src/plan/graph.js';
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

/** The same lab without IPv6: no link-local addresses, so nothing to set before links come up. */
const specV4: LabSpec = { ...spec, nodes: { ...spec.nodes, c0: { interfaces: { eth0: { addresses: ['172.18.0.10/16'] } }, routes: [{ to: 'default', via: '172.18.0.1' }] } } };

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
      'create sysctl/c0/net.ipv6.conf.eth0.accept_dad',
      'create dns/c0',
      'create netns/host',
      'create loopback/host',
      'create bridge/host:br0',
      'create settings/host:br0',
      'create settings/host:c0-eth0',
      'create address/host:br0/172.18.0.1/16',
      'create sysctl/host/net.ipv4.ip_forward',
      'create sysctl/host/net.ipv6.conf.c0-eth0.accept_dad',
      'create sysctl/host/net.ipv6.conf.default.accept_dad',
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
      'delete link/c0:eth0',
      'create veth/c0:eth0=host:c0-eth0',
      'create settings/c0:eth0',
      'create address/c0:eth0/172.18.0.10/16',
      'create address/c0:eth0/2001:db8::10/64',
      'create sysctl/c0/net.ipv6.conf.eth0.accept_dad',
      'delete link/host:c0-eth0',
      'create settings/host:c0-eth0',
      'create sysctl/host/net.ipv6.conf.c0-eth0.accept_dad',
    ]);
  });

  it('pairs veths by namespace too where ifindexes are ambiguous: ends swapped between pairs are made again, one delete per pair', () => {
    const four = (links: Array<[string, string]>): LabSpec => ({
      name: 'swap',
      nodes: Object.fromEntries(['a', 'b', 'c', 'd'].map((n, i) => [n, { interfaces: { eth0: { addresses: [`10.7.0.${i + 1}/24`] } } }])),
      links,
    });
    const actual = appliedState(resolveLab(four([['a:eth0', 'b:eth0'], ['c:eth0', 'd:eth0']])));
    const truth: Record<string, string> = { a: 'b', b: 'a', c: 'd', d: 'c' };
    // As the kernel numbers them: each namespace's first veth is ifindex 2, its peer's too.
    for (const node of actual.nodes.values()) node.links.get('eth0')!.kernelPeer = { ifindex: 2, peerIfindex: 2, peerNetnsId: 0 };
    expect([...ambiguousVethNodes([...actual.nodes.values()])].sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const node of actual.nodes.values()) node.peerNamespaces = new Map([[0, actual.nodes.get(truth[node.node]!)!.netns!]]);
    expect(isVethPairedWith(actual.nodes, 'a', 'eth0', { node: 'b', name: 'eth0' })).toBe(true);
    expect(isVethPairedWith(actual.nodes, 'a', 'eth0', { node: 'c', name: 'eth0' })).toBe(false);

    const plan = diff(resolveLab(four([['a:eth0', 'c:eth0'], ['b:eth0', 'd:eth0']])), actual);
    expect(ids(plan.changes).filter((id) => /^\w+ (link|veth)\//.test(id))).toEqual([
      'delete link/a:eth0',
      'create veth/a:eth0=c:eth0',
      'create veth/b:eth0=d:eth0',
      'delete link/c:eth0',
    ]);
    const deletes = plan.changes.filter((c) => c.kind === 'link');
    expect(deletes.map((c) => (c.kind === 'link' ? c.peerEnds : undefined))).toEqual([[{ node: 'b', name: 'eth0' }], [{ node: 'd', name: 'eth0' }]]);
    // b:eth0 is made again only once a:eth0's delete has taken the old one.
    expect(schedule(plan.changes).deps.get('veth/b:eth0=d:eth0')).toEqual(expect.arrayContaining(['link/a:eth0', 'link/c:eth0']));
  });

  it('no namespace lookup where each veth has one match: a star through a bridge', () => {
    const actual = appliedState(desired);
    expect(ambiguousVethNodes([...actual.nodes.values()])).toEqual(new Set());
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
    const madeByLab = diff(desired, actual, { madeByLab: new Set(['c0']) });
    expect(ids(madeByLab.changes)).toEqual(['update loopback/c0']);
  });

  it('destroys by deleting whole namespaces, not their contents', () => {
    const plan = diff({ lab: 'demo', nodes: new Map() }, appliedState(desired));
    expect(ids(plan.changes)).toEqual(['delete netns/c0', 'delete dns/c0', 'delete netns/host']);
  });
});

describe('schedule', () => {
  const shapeOf = (lab: LabSpec) => {
    const desired = resolveLab(lab);
    const { rounds } = schedule(diff(desired, nothing(lab.name, desired)).changes);
    return rounds.map((round) => round.map((b) => `${b.scope.tool}@${b.scope.netns ?? 'root'}: ${b.changes.map((c) => c.kind).join(',')}`).sort());
  };

  it('takes two rounds for a whole lab without IPv6: the root namespace, then every namespace at once', () => {
    expect(shapeOf(specV4)).toEqual([
      ['ip@root: netns,netns,veth'],
      ['ip@c0: loopback,address,settings,route', 'ip@host: loopback,bridge,settings,settings,address', 'sysctl@host: sysctl'],
    ]);
  });

  it('takes three with IPv6: duplicate address detection is off in each namespace before its ip batch, still one batch', () => {
    expect(shapeOf(spec)).toEqual([
      ['ip@root: netns,netns,veth'],
      ['file@c0: dns', 'sysctl@c0: sysctl', 'sysctl@host: sysctl,sysctl,sysctl'],
      ['ip@c0: loopback,address,address,settings,route,route', 'ip@host: loopback,bridge,settings,settings,address'],
    ]);
  });

  it('sets a bridge outside a namespace of its own by name, once made, before it comes up', () => {
    const attached: LabSpec = { ...spec, nodes: { ...spec.nodes, host: { ...spec.nodes.host!, kind: 'attach', pid: 4242 } } };
    const desired = resolveLab(attached);
    const actual = nothing('demo', desired);
    actual.nodes.set('host', { ...emptyNode('host', desired.nodes.get('host')!.netns, true, 'attach'), source: '/proc/4242/ns/net' });
    const steps = schedule(diff(desired, actual).changes);
    const round = (id: string) => steps.rounds.findIndex((r) => r.some((b) => b.changes.some((c) => c.id === id)));
    expect(round('bridge/host:br0')).toBeLessThan(round('sysctl/host/net.ipv6.conf.br0.accept_dad'));
    expect(round('sysctl/host/net.ipv6.conf.br0.accept_dad')).toBeLessThan(round('settings/host:br0'));
    // The port's own is set by name before anything in the node's batch, which the bridge's is not.
    expect(round('sysctl/host/net.ipv6.conf.c0-eth0.accept_dad')).toBeLessThan(round('bridge/host:br0'));
    expect(round('sysctl/host/net.ipv6.conf.c0-eth0.accept_dad')).toBeLessThan(round('settings/host:c0-eth0'));
  });

  it('orders a bridge before the port enslaved to it and addresses before routes', () => {
    const desired = resolveLab(spec);
    const { rounds } = schedule(diff(desired, nothing('demo', desired)).changes);
    const host = rounds[2]!.find((b) => b.scope.netns === 'host' && b.scope.tool === 'ip')!;
    const kinds = host.changes.map((c) => c.id);
    expect(kinds.indexOf('bridge/host:br0')).toBeLessThan(kinds.indexOf('settings/host:c0-eth0'));
  });
});

describe('read-back: namespaces read at the end of their own last batch', () => {
  it('takes every namespace of a new lab, in the round of its last ip batch', () => {
    const desired = resolveLab(spec);
    expect(settledByOwnLastBatch(schedule(diff(desired, nothing('demo', desired)).changes))).toEqual(new Map([['c0', 2], ['host', 2]]));
  });

  it('takes a namespace only after the last change that reaches across: a veth made again', () => {
    const desired = resolveLab(spec);
    const actual = appliedState(desired);
    actual.nodes.get('c0')!.links.get('eth0')!.kernelPeer = { ifindex: 2, peerIfindex: 77, peerNetnsId: 0 };
    // Round 0 deletes both ends, round 1 (root) makes the pair, round 2 sets each end's sysctls, round 3 configures it.
    expect(settledByOwnLastBatch(schedule(diff(desired, actual).changes))).toEqual(new Map([['c0', 3], ['host', 3]]));
  });

  it('leaves out a namespace while a later batch deletes a namespace, whose veths end anywhere', () => {
    const full = resolveLab(spec);
    const desired = resolveLab({ ...spec, nodes: { host: spec.nodes.host! }, links: [] });
    const steps = schedule(diff(desired, appliedState(full)).changes);
    expect(steps.rounds.at(-1)!.map((b) => b.changes.map((c) => c.id).join(','))).toContain('netns/c0');
    expect(settledByOwnLastBatch(steps)).toEqual(new Map());
  });

  it('leaves out a namespace whose IPv6 interface settings change in the same round, but not for forwarding', () => {
    const withSysctl = (key: string) => resolveLab({ ...specV4, nodes: { ...specV4.nodes, c0: { ...specV4.nodes.c0, sysctls: { [key]: 1 } } } });
    const settled = (key: string) => {
      const desired = withSysctl(key);
      return [...settledByOwnLastBatch(schedule(diff(desired, nothing('demo', desired)).changes)).keys()];
    };
    expect(settled('net.ipv6.conf.all.disable_ipv6')).toEqual(['host']);
    // Sysctls read back in the batch that writes them: nothing later undoes them.
    const desired = withSysctl('net.ipv4.ip_forward');
    expect(sysctlsSettledByOwnLastBatch(schedule(diff(desired, nothing('demo', desired)).changes))).toEqual(new Map([['c0', 1], ['host', 1]]));
    expect(settled('net.ipv6.conf.all.forwarding')).toEqual(['c0', 'host']);
    expect(settled('net.ipv4.ip_forward')).toEqual(['c0', 'host']);
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
      { tool: 'ip', line: 'link add name eth0 netns c0 type veth peer name c0-eth0 netns host' },
      { tool: 'ip', line: 'link set dev eth0 up' },
      { tool: 'ip', line: 'addr replace 172.18.0.10/16 dev eth0' },
      { tool: 'ip', line: 'addr replace 2001:db8::10/64 dev eth0 nodad' },
      { tool: 'ip', line: 'route replace default via 172.18.0.1 metric 0 proto 77' },
      { tool: 'ip', line: 'route replace ::/0 via 2001:db8::1 metric 1024 proto 77' },
      { tool: 'sysctl', assignment: 'net.ipv6.conf.eth0.accept_dad=0' },
      { tool: 'file', op: 'write', path: '/etc/netns/c0/resolv.conf', content: '# written by netlab\nnameserver 198.51.100.53\nsearch lab.test\n' },
      { tool: 'ip', line: 'netns add host' },
      { tool: 'ip', line: 'link set dev lo up' },
      { tool: 'ip', line: 'link set dev lo alias netlab:demo' },
      { tool: 'ip', line: 'link add name br0 type bridge' },
      { tool: 'ip', line: 'link set dev br0 type bridge stp_state 0' },
      { tool: 'ip', line: 'link set dev br0 up' },
      { tool: 'ip', line: 'link set dev c0-eth0 master br0 up' },
      { tool: 'ip', line: 'addr replace 172.18.0.1/16 dev br0' },
      { tool: 'sysctl', assignment: 'net.ipv4.ip_forward=1' },
      { tool: 'sysctl', assignment: 'net.ipv6.conf.c0-eth0.accept_dad=0' },
      { tool: 'sysctl', assignment: 'net.ipv6.conf.default.accept_dad=0' },
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

describe('link-local IPv6', () => {
  const v4only: LabSpec = {
    name: 'v4',
    nodes: {
      hub: { bridges: { br0: { addresses: ['198.51.100.1/24'] } } },
      c0: { interfaces: { eth0: { addresses: ['198.51.100.10/24'] } }, routes: [{ to: 'default', via: '198.51.100.1' }] },
    },
    links: [['c0:eth0', 'hub:br0']],
  };
  const linkLocal = (lab: LabState) => [...lab.nodes.values()].flatMap((n) => [...n.links.values()].map((l) => `${n.node}:${l.name}=${String(l.linkLocal)}`)).sort();

  it('is off in a lab without IPv6, on in one with any, and the ipv6 key decides over both', () => {
    expect(linkLocal(resolveLab(v4only))).toEqual(['c0:eth0=false', 'hub:br0=false', 'hub:c0-eth0=false']);
    expect(linkLocal(resolveLab(spec))).toEqual(['c0:eth0=true', 'host:br0=true', 'host:c0-eth0=true']);
    expect(linkLocal(resolveLab({ ...v4only, ipv6: true }))).toEqual(['c0:eth0=true', 'hub:br0=true', 'hub:c0-eth0=true']);
    expect(linkLocal(resolveLab({ ...spec, ipv6: false }))).toEqual(['c0:eth0=false', 'host:br0=false', 'host:c0-eth0=false']);
  });

  it('counts an IPv6 address anywhere: a route, a NAT target, a firewall match, a nameserver', () => {
    const withNode = (node: LabSpec['nodes'][string]) => resolveLab({ ...v4only, nodes: { ...v4only.nodes, hub: { ...v4only.nodes.hub, ...node } } });
    expect(linkLocal(withNode({ routes: [{ to: '2001:db8:1::/48', dev: 'br0' }] }))[1]).toBe('hub:br0=true');
    expect(linkLocal(withNode({ nat: [{ type: 'dnat', port: 80, proto: 'tcp', to: '[2001:db8::10]:8080' }] }))[1]).toBe('hub:br0=true');
    expect(linkLocal(withNode({ firewall: { forward: { rules: [{ source: '2001:db8::/32', action: 'drop' }] } } }))[1]).toBe('hub:br0=true');
    expect(linkLocal(withNode({ dns: { nameservers: ['2001:db8::53'] } }))[1]).toBe('hub:br0=true');
    // An IPv4 address with a port has one colon, a MAC five: neither is IPv6.
    expect(linkLocal(withNode({ nat: [{ type: 'dnat', port: 80, proto: 'tcp', to: '198.51.100.10:8080' }], interfaces: { 'c0-eth0': { mac: '02:42:ac:12:00:0a' } } }))[1]).toBe('hub:br0=false');
  });

  it('sets addrgenmode none on every new link before it comes up', () => {
    const desired = resolveLab(v4only);
    const lines = diff(desired, nothing('v4', desired)).changes.flatMap((c) => commandsOf(c)).flatMap((c) => (c.tool === 'ip' ? [c.line] : []));
    for (const dev of ['eth0', 'br0', 'c0-eth0']) {
      const off = lines.indexOf(`link set dev ${dev} addrgenmode none`);
      expect(off, dev).toBeGreaterThanOrEqual(0);
      expect(off, dev).toBeLessThan(lines.findIndex((l) => l.startsWith(`link set dev ${dev} `) && l.endsWith(' up')));
    }
    expect(lines.filter((l) => l.includes('addr flush'))).toEqual([]);
    // A lab with IPv6 leaves the kernel's default alone.
    const v6 = resolveLab(spec);
    expect(diff(v6, nothing('demo', v6)).changes.flatMap((c) => commandsOf(c)).some((c) => c.tool === 'ip' && c.line.includes('addrgenmode'))).toBe(false);
  });

  it('finds nothing to do once applied, and turns it off in place on a link that has it', () => {
    const desired = resolveLab(v4only);
    const actual = appliedState(desired);
    expect(diff(desired, actual).changes).toEqual([]);
    actual.nodes.get('c0')!.links.get('eth0')!.linkLocal = true;
    const plan = diff(desired, actual);
    expect(ids(plan.changes)).toEqual(['update settings/c0:eth0']);
    expect(plan.changes[0]!.reason).toBe('eth0: link-local IPv6 on → link-local IPv6 off');
    expect(commandsOf(plan.changes[0]!)).toEqual([
      { tool: 'ip', line: 'link set dev eth0 addrgenmode none' },
      { tool: 'ip', line: 'addr flush dev eth0 scope link' },
    ]);
    // A link without IPv6 at all (the kernel shows no addrgenmode) is not drift.
    actual.nodes.get('c0')!.links.get('eth0')!.linkLocal = undefined;
    expect(diff(desired, actual).changes).toEqual([]);
  });

  it('makes a veth pair again, deleted from one side, to turn it back on; a bridge made again gets its ports back', () => {
    const desired = resolveLab({ ...v4only, ipv6: true });
    const actual = appliedState(resolveLab(v4only));
    // As the kernel shows it: the default route goes out through eth0, and goes with it.
    for (const r of actual.nodes.get('c0')!.routes.values()) r.dev = 'eth0';
    const plan = diff(desired, actual);
    expect(ids(plan.changes)).toEqual([
      'delete link/c0:eth0',
      'create veth/c0:eth0=hub:c0-eth0',
      'create settings/c0:eth0',
      'create address/c0:eth0/198.51.100.10/24',
      'update route/c0/inet default metric 0',
      'create sysctl/c0/net.ipv6.conf.eth0.accept_dad',
      'delete link/hub:br0',
      'create bridge/hub:br0',
      'create settings/hub:br0',
      'create settings/hub:c0-eth0',
      'create address/hub:br0/198.51.100.1/24',
      'create sysctl/hub/net.ipv6.conf.c0-eth0.accept_dad',
      'create sysctl/hub/net.ipv6.conf.default.accept_dad',
    ]);
    expect(plan.changes[0]!.reason).toBe('eth0 has link-local IPv6 off, the file wants it on (ipv6: true, or an IPv6 address in the file)');
    // Only a bridge made again: its kept port is enslaved again.
    const bridgeOnly = appliedState(desired);
    bridgeOnly.nodes.get('hub')!.links.get('br0')!.linkLocal = false;
    const again = diff(desired, bridgeOnly);
    expect(ids(again.changes)).toEqual([
      'delete link/hub:br0',
      'create bridge/hub:br0',
      'create settings/hub:br0',
      'update settings/hub:c0-eth0',
      'create address/hub:br0/198.51.100.1/24',
      'create sysctl/hub/net.ipv6.conf.default.accept_dad',
    ]);
    expect(commandsOf(again.changes[3]!)).toEqual([{ tool: 'ip', line: 'link set dev c0-eth0 master br0' }]);
  });
});

describe('duplicate address detection: off on the links a lab makes', () => {
  it('is left to the kernel without link-local addresses, and to the file where it sets the key', () => {
    const dadKeys = (lab: LabSpec) => {
      const desired = resolveLab(lab);
      return diff(desired, nothing(lab.name, desired)).changes.flatMap((c) => (c.kind === 'sysctl' && c.beforeUp ? [`${c.node} ${c.key}`] : []));
    };
    expect(dadKeys(specV4)).toEqual([]);
    expect(dadKeys({ ...spec, ipv6: false })).toEqual([]);
    expect(dadKeys(spec)).toEqual(['c0 net.ipv6.conf.eth0.accept_dad', 'host net.ipv6.conf.c0-eth0.accept_dad', 'host net.ipv6.conf.default.accept_dad']);
    const own: LabSpec = { ...spec, nodes: { ...spec.nodes, c0: { ...spec.nodes.c0, sysctls: { 'net.ipv6.conf.eth0.accept_dad': 1 } } } };
    expect(dadKeys(own)).toEqual(['host net.ipv6.conf.c0-eth0.accept_dad', 'host net.ipv6.conf.default.accept_dad']);
  });

  it('names an interface with a dot in its sysctl key with a slash', () => {
    expect(interfaceSysctl('eth0.10', 'accept_dad')).toBe('net.ipv6.conf.eth0/10.accept_dad');
  });
});

describe('carrier: what apply reads again before it returns', () => {
  const starSpec = (n: number): LabSpec => ({
    name: 'star',
    nodes: { hub: { bridges: { br0: {} } }, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, {}])) },
    links: Array.from({ length: n }, (_, i) => [`c${i}:eth0`, 'hub:br0'] as [string, string]),
  });

  it('reads again only the hub of a star whose leaves saw no carrier yet', () => {
    const desired = resolveLab(starSpec(3));
    const actual = appliedState(desired);
    for (const node of actual.nodes.values()) for (const l of node.links.values()) l.carrier = false;
    expect(waitingForCarrier(desired, actual)).toEqual(['hub']);
    // Either end seen with carrier will do.
    actual.nodes.get('hub')!.links.get('c0-eth0')!.carrier = true;
    actual.nodes.get('c1')!.links.get('eth0')!.carrier = true;
    actual.nodes.get('hub')!.links.get('c2-eth0')!.carrier = true;
    expect(waitingForCarrier(desired, actual)).toEqual([]);
  });

  it('waits, on links this run made with link-local IPv6, for each one\'s own usable link-local address', () => {
    const desired = resolveLab({ ...starSpec(2), ipv6: true });
    const actual = appliedState(desired);
    for (const node of actual.nodes.values()) for (const l of node.links.values()) Object.assign(l, { carrier: true, linkLocalUsable: true });
    const made = new Set(['c0:eth0', 'hub:c0-eth0', 'hub:br0']);
    expect(waitingForCarrier(desired, actual, made)).toEqual([]);
    // The far end's carrier is not enough: a router forwards out of a link only from its own link-local address.
    actual.nodes.get('hub')!.links.get('c0-eth0')!.linkLocalUsable = false;
    actual.nodes.get('c0')!.links.get('eth0')!.linkLocalUsable = false;
    expect(waitingForCarrier(desired, actual, made)).toEqual(['c0', 'hub']);
    // A bridge with a live port gets one too.
    actual.nodes.get('c0')!.links.get('eth0')!.linkLocalUsable = true;
    actual.nodes.get('hub')!.links.get('c0-eth0')!.linkLocalUsable = true;
    actual.nodes.get('hub')!.links.get('br0')!.linkLocalUsable = false;
    expect(waitingForCarrier(desired, actual, made)).toEqual(['hub']);
    // Links kept from before, or kept without IPv6 by the file, are not waited for.
    expect(waitingForCarrier(desired, actual, new Set())).toEqual([]);
    const noV6 = resolveLab({ ...starSpec(2), ipv6: true, nodes: { ...starSpec(2).nodes, hub: { bridges: { br0: {} }, sysctls: { 'net.ipv6.conf.br0.disable_ipv6': 1 } } } });
    expect(waitingForCarrier(noV6, actual, made)).toEqual([]);
  });

  it('covers every waiting pair with the fewest nodes', () => {
    expect(fewestCovering([])).toEqual([]);
    expect(fewestCovering([['a', 'hub'], ['b', 'hub'], ['c', 'd']])).toEqual(['c', 'hub']);
    expect(fewestCovering([['r1', 'r2'], ['r2', 'r3'], ['r3', 'r4']])).toEqual(['r2', 'r3']);
  });
});

describe('parseReadOutput: one ip -d -j batch, read back', () => {
  const link = { ifindex: 2, ifname: 'eth0', flags: ['UP', 'LOWER_UP'], operstate: 'UP', mtu: 1500, linkinfo: { info_kind: 'veth' } };
  const out = (mode?: string) =>
    [
      JSON.stringify([{ ...link, ...(mode ? { inet6_addr_gen_mode: mode } : {}) }]),
      JSON.stringify([{ ...link, addr_info: [{ family: 'inet', local: '198.51.100.10', prefixlen: 24, scope: 'global' }] }]),
      JSON.stringify([{ dst: 'default', gateway: '198.51.100.1', dev: 'eth0', protocol: '77', metric: 0, table: 'main' }]),
      '[]',
      '',
    ].join('\n');

  it("takes addresses from addr show and the IPv6 address mode from link show, which alone prints it", () => {
    const read = parseReadOutput(out('none'));
    expect(read.links).toEqual([expect.objectContaining({ ifname: 'eth0', inet6_addr_gen_mode: 'none', addr_info: [expect.objectContaining({ local: '198.51.100.10' })] })]);
    expect(read.routes4).toHaveLength(1);
    expect(read.routes6).toEqual([]);
    const node = parseNode('c0', 'c0', { ...read }, 'netns');
    expect(node.links.get('eth0')!.linkLocal).toBe(false);
    expect(parseNode('c0', 'c0', { ...parseReadOutput(out('eui64')) }, 'netns').links.get('eth0')!.linkLocal).toBe(true);
    expect(parseNode('c0', 'c0', { ...parseReadOutput(out()) }, 'netns').links.get('eth0')!.linkLocal).toBeUndefined();
  });

  it('reads the last four answers: what a change batch printed before them does not count', () => {
    expect(parseReadOutput(`[{"unexpected":true}]\n${out('none')}`).links[0]!.ifname).toBe('eth0');
  });
});

describe('parseRoute: what ip -j route prints for host routes', () => {
  it('reads a /32 or /128 destination, which ip prints without its length, as that host route', () => {
    // `ip -j route` prints "10.9.9.9" for 10.9.9.9/32 and "2001:db8::9" for 2001:db8::9/128.
    const node = parseNode('c0', 'c0', {
      links: [],
      routes4: [{ dst: '10.9.9.9', dev: 'eth0', protocol: '77', metric: 0, table: 'main', scope: 'link' }],
      routes6: [{ dst: '2001:db8::9', dev: 'eth0', protocol: '77', metric: 1024, table: 'main' }],
    });
    expect([...node.routes.values()].map((r) => r.to)).toEqual(['10.9.9.9/32', '2001:db8::9/128']);
    expect(resolveLab({ name: 'h', nodes: { c0: { routes: [{ to: '10.9.9.9/32', dev: 'eth0' }] } } } as LabSpec).nodes.get('c0')!.routes.values().next().value!.to).toBe('10.9.9.9/32');
  });
});
