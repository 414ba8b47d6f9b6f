// Several labs in one namespace (the root one, or one attached): what another lab's record lists
// is that lab's, a sysctl two labs hold goes back once, to the machine's value, and forwarding's
// write-back gives foreign interfaces their own values again. The pure parts.
import { describe, expect, it } from 'vitest';
import { commandsOf } from '../../src/resources/registry.js';
import { emptyNode, type LabState, type LinkState, type NodeState } from '../../src/model/types.js';
import type { Change } from '../../src/plan/change.js';
import { diff } from '../../src/plan/diff.js';
import { interfaceSysctls, lacksHeldSysctls, otherLabsClaims, partialOwnership, recordBeforeRun, sysctlOriginals } from '../../src/state/bookkeeping.js';
import type { LabRecord } from '../../src/state/record.js';

function link(name: string, type: LinkState['type'], addresses: string[], owner?: string): LinkState {
  return { name, type, addresses, up: true, master: null, ...(owner ? { owner } : {}) } as LinkState;
}

function host(lab: string, fill: (n: NodeState) => void = () => {}): LabState {
  const node = emptyNode('root', null, true, 'host');
  fill(node);
  return { lab, nodes: new Map([['root', node]]) };
}

const labA: LabRecord = { lab: 'la', updated: '', nodes: { root: { netns: null, kind: 'host', links: ['br-a'], addresses: {}, routes: [], sysctls: {} } } };
const labB: LabRecord = {
  lab: 'lb',
  updated: '',
  nodes: {
    root: {
      netns: null,
      kind: 'host',
      links: [],
      addresses: { 'br-a': ['10.5.0.1/24'] },
      routes: ['inet 10.6.0.0/16 metric 0'],
      sysctls: { 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.all.rp_filter': '1' },
      interfaceSysctls: { 'net.ipv4.ip_forward': { 'net.ipv4.conf.fx0.forwarding': '1' } },
    },
  },
};

/** The root namespace as lab A sees it with lab B applied: A's bridge carries B's address, B's route goes through it. */
function actualWithB(): LabState {
  return host('la', (n) => {
    n.links.set('br-a', link('br-a', 'bridge', ['10.5.0.1/24', '10.5.0.254/24'], 'la'));
    n.routes.set('inet 10.6.0.0/16 metric 0', { family: 4, to: '10.6.0.0/16', via: '10.5.0.9', dev: 'br-a', metric: 0, protocol: '77' });
  });
}

describe('objects of another lab in the same namespace', () => {
  const desired = host('la', (n) => n.links.set('br-a', link('br-a', 'bridge', ['10.5.0.254/24'])));

  it("are not drift: lab A's plan leaves lab B's address and route alone", () => {
    const options = { partial: partialOwnership(labA), otherLabs: otherLabsClaims(desired, labA, [labB]) };
    const plan = diff(desired, actualWithB(), options);
    expect(plan.conflicts).toEqual([]);
    expect(plan.changes.filter((c) => c.kind === 'address' || c.kind === 'route')).toEqual([]);
    // Without the other lab's record they were A's to remove: the test sees the difference.
    expect(diff(desired, actualWithB(), { partial: partialOwnership(labA) }).changes.map((c) => c.id)).toContain('address/root:br-a/10.5.0.1/24');
  });

  it('are a conflict, naming the lab, when a file asks for them too', () => {
    const wantsB = host('lc', (n) => {
      n.links.set('br-a', link('br-a', 'existing', ['10.5.0.1/24']));
      n.routes.set('inet 10.6.0.0/16 metric 0', { family: 4, to: '10.6.0.0/16', via: '10.5.0.9', metric: 0 });
    });
    const plan = diff(wantsB, actualWithB(), { otherLabs: otherLabsClaims(wantsB, undefined, [labA, labB]) });
    expect(plan.changes).toEqual([]);
    expect(plan.conflicts.map((c) => c.reason)).toEqual([
      "address 10.5.0.1/24 on root:br-a is lab lb's — remove it from this file, or destroy lab lb first",
      "route 10.6.0.0/16 (metric 0) in node root is lab lb's — remove it from this file, or change its metric",
    ]);
  });

  it('count only in the same namespace: a host node, or the same /run/netns file', () => {
    const inNetns: LabRecord = { lab: 'lb', updated: '', nodes: { x: { netns: 'x', kind: 'attach', source: '/proc/9/ns/net', routes: ['r'] } } };
    expect(otherLabsClaims(desired, undefined, [inNetns]).size).toBe(0);
    const attaching = { lab: 'lb', updated: '', nodes: { y: { netns: 'y', kind: 'attach' as const, source: '/run/netns/a', routes: ['r'] } } };
    const owner: LabState = { lab: 'la', nodes: new Map([['a', emptyNode('a', 'a', true)]]) };
    expect(otherLabsClaims(owner, undefined, [attaching]).get('a')?.routes).toEqual(new Map([['r', 'lb']]));
  });
});

describe('a sysctl two labs hold', () => {
  const wants = (lab: string, key: string, value: string) => host(lab, (n) => n.sysctls.set(key, value));
  const actual = (key: string, value: string) => host('x', (n) => n.sysctls.set(key, value));

  it("is recorded with the machine's value the first lab found, not the value the first lab set", () => {
    const desired = wants('lc', 'net.ipv4.conf.all.rp_filter', '0');
    const record = recordBeforeRun(undefined, desired, actual('net.ipv4.conf.all.rp_filter', '2'), [], 'f', otherLabsClaims(desired, undefined, [labB]));
    expect(record.nodes.root!.sysctls).toEqual({ 'net.ipv4.conf.all.rp_filter': '1' });
  });

  it('is recorded even when it already has the value the file wants, so that the lab is known to hold it', () => {
    const desired = wants('lc', 'net.ipv4.conf.all.rp_filter', '2');
    expect(lacksHeldSysctls(undefined, desired)).toBe(true);
    const record = recordBeforeRun(undefined, desired, actual('net.ipv4.conf.all.rp_filter', '2'), [], 'f');
    expect(record.nodes.root!.sysctls).toEqual({ 'net.ipv4.conf.all.rp_filter': '2' });
    expect(lacksHeldSysctls(record, desired)).toBe(false);
  });

  it('is put back only by the last lab holding it; ip_forward and all.forwarding are one key', () => {
    const mine: LabRecord = { lab: 'lc', updated: '', nodes: { root: { netns: null, kind: 'host', sysctls: { 'net.ipv4.conf.all.forwarding': '0', 'net.ipv4.conf.all.rp_filter': '1' } } } };
    const empty = host('lc');
    const now = host('lc', (n) => {
      n.sysctls.set('net.ipv4.conf.all.forwarding', '1');
      n.sysctls.set('net.ipv4.conf.all.rp_filter', '0');
    });
    const alone = diff(empty, now, { sysctlOriginals: sysctlOriginals(mine) });
    expect(alone.changes.map((c) => c.id)).toEqual(['sysctl/root/net.ipv4.conf.all.forwarding', 'sysctl/root/net.ipv4.conf.all.rp_filter']);
    const shared = diff(empty, now, { sysctlOriginals: sysctlOriginals(mine), otherLabs: otherLabsClaims(empty, mine, [labB]) });
    expect(shared.changes).toEqual([]);
  });
});

describe('forwarding put back', () => {
  const desired = host('lf', (n) => {
    n.sysctls.set('net.ipv4.ip_forward', '1');
    n.links.set('br-f', link('br-f', 'bridge', []));
  });
  /** Before the lab: a foreign interface forwards on its own, the lab's bridge does not exist yet, a foreign one with the global value. */
  const before = host('lf', (n) => {
    n.sysctls.set('net.ipv4.ip_forward', '0');
    n.links.set('fx0.5', link('fx0.5', 'veth', []));
    n.links.set('fx1', link('fx1', 'veth', []));
    n.sysctls.set('net.ipv4.conf.fx0/5.forwarding', '1');
    n.sysctls.set('net.ipv4.conf.fx1.forwarding', '0');
    n.sysctls.set('net.ipv4.conf.default.forwarding', '0');
    n.sysctls.set('net.ipv4.conf.lo.forwarding', '0');
  });

  it("records the foreign interfaces' own values that differ from the value put back", () => {
    const record = recordBeforeRun(undefined, desired, before, [], 'f');
    expect(record.nodes.root!.sysctls).toEqual({ 'net.ipv4.ip_forward': '0' });
    expect(record.nodes.root!.interfaceSysctls).toEqual({ 'net.ipv4.ip_forward': { 'net.ipv4.conf.fx0/5.forwarding': '1' } });
  });

  it('sets them again after the write, in the same sysctl process, for interfaces still there', () => {
    const record = recordBeforeRun(undefined, desired, before, [], 'f');
    const gone = structuredClone(record);
    gone.nodes.root!.interfaceSysctls!['net.ipv4.ip_forward']!['net.ipv4.conf.gone0.forwarding'] = '1';
    const now = host('lf', (n) => {
      n.sysctls.set('net.ipv4.ip_forward', '1');
      n.links.set('fx0.5', link('fx0.5', 'veth', []));
    });
    const [change] = diff(host('lf'), now, { sysctlOriginals: sysctlOriginals(gone), interfaceSysctls: interfaceSysctls(gone) }).changes as Change[];
    expect(change).toMatchObject({ kind: 'sysctl', key: 'net.ipv4.ip_forward', value: '0', restore: { 'net.ipv4.conf.fx0/5.forwarding': '1' } });
    expect(commandsOf(change!)).toEqual([
      { tool: 'sysctl', assignment: 'net.ipv4.ip_forward=0' },
      { tool: 'sysctl', assignment: 'net.ipv4.conf.fx0/5.forwarding=1' },
    ]);
  });
});
