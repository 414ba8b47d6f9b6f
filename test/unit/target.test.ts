// --node narrowing, the record around a narrowed run, and saved plans' staleness. Pure.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { fingerprintNodes, savedPlanProblem, staleness } from '../../src/plan/saved.js';
import { describeLeftOut, narrowState, selectNodes } from '../../src/plan/target.js';
import type { LabRecord } from '../../src/state/record.js';
import { recordAfterTargetedRun, recordLeftAfterDestroy } from '../../src/state/targeted.js';

const spec: LabSpec = {
  name: 'chain',
  nodes: {
    a: { interfaces: { e1: { addresses: ['198.51.100.1/30'] } } },
    b: {
      interfaces: { e1: { addresses: ['198.51.100.2/30'] }, e2: { addresses: ['198.51.100.5/30'] } },
      routes: [{ to: '203.0.113.0/24', via: '198.51.100.6' }, { to: '192.0.2.0/24', dev: 'e2' }, { to: '10.0.0.0/8', via: '198.51.100.1' }],
      sysctls: { 'net.ipv4.conf.e2.forwarding': 1, 'net.ipv4.conf.e1.forwarding': 1, 'net.ipv4.ip_forward': 1 },
    },
    c: { interfaces: { e1: { addresses: ['198.51.100.6/30'] } } },
  },
  links: [['a:e1', 'b:e1'], ['b:e2', 'c:e1']],
};

function nothing(desired: LabState): LabState {
  return { lab: desired.lab, nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) };
}

describe('selectNodes and narrowState', () => {
  const desired = resolveLab(spec);
  const selection = selectNodes(desired, ['old'], ['a', 'b']);

  it('keeps the selected nodes and the links between them; a link out of the selection goes whole, with its routes and sysctls', () => {
    const narrowed = narrowState(desired, selection);
    expect([...narrowed.nodes.keys()]).toEqual(['a', 'b']);
    const b = narrowed.nodes.get('b')!;
    expect([...b.links.keys()]).toEqual(['e1']);
    expect([...b.routes.values()].map((r) => r.to)).toEqual(['10.0.0.0/8']);
    expect([...b.sysctls.keys()].sort()).toEqual(['net.ipv4.conf.e1.forwarding', 'net.ipv4.ip_forward']);
    // The file's state itself is left as it was.
    expect([...desired.nodes.get('b')!.links.keys()]).toEqual(['e1', 'e2']);
  });

  it('says what was left out: nodes of the file and the record, links, and those that reach the selection', () => {
    expect(selection.leftOut).toEqual({ nodes: ['c', 'old'], links: ['b:e2 <-> c:e1'], reaching: ['b:e2 <-> c:e1'] });
    expect(describeLeftOut(selection)).toBe('left out: 2 node(s) (c, old) and 1 link(s), 1 of them to a selected node (b:e2 <-> c:e1); run without --node for the whole lab');
    expect(describeLeftOut(selectNodes(desired, [], ['a', 'b', 'c']))).toBeUndefined();
  });

  it('plans nothing for what is left out, from nothing and from a kernel that already has it', () => {
    const plan = diff(narrowState(desired, selection), narrowState(nothing(desired), selection));
    expect(plan.changes.some((c) => c.node === 'c' || (c.kind === 'veth' && c.peer.node === 'c'))).toBe(false);
    expect(plan.changes.filter((c) => c.kind === 'veth').map((c) => c.id)).toHaveLength(1);
    // An end that exists and is left out is not drift: the read state is narrowed alike.
    const actual = nothing(desired);
    const b = actual.nodes.get('b')!;
    Object.assign(b, { exists: true, owner: 'chain', loUp: true });
    b.links.set('e2', { name: 'e2', type: 'veth', master: null, up: true, addresses: ['198.51.100.5/30'] });
    const again = diff(narrowState(desired, selection), narrowState(actual, selection));
    expect(again.changes.filter((c) => c.node === 'b' && c.action === 'delete')).toEqual([]);
  });

  it('names unknown nodes with the nodes there are', () => {
    expect(() => selectNodes(desired, [], ['a', 'x'])).toThrow('--node x: no such node in lab chain (its nodes: a, b, c)');
  });
});

describe('the record around a narrowed run', () => {
  const desired = resolveLab(spec);
  const selection = selectNodes(desired, [], ['b']);
  const during: LabRecord = {
    lab: 'chain',
    updated: '',
    nodes: {
      a: { netns: 'a', kind: 'netns', inode: '1' },
      b: { netns: null, kind: 'host', links: ['e1', 'e2'], routes: ['inet 203.0.113.0/24 metric 0'], sysctls: { 'net.ipv4.conf.e2.forwarding': '0' } },
    },
  };

  it('keeps unselected nodes and the left-out ends of a selected host node', () => {
    const after: LabRecord = { lab: 'chain', updated: 'now', nodes: { b: { netns: null, kind: 'host', links: ['e1'], routes: [], sysctls: {} } } };
    expect(recordAfterTargetedRun(during, after, selection).nodes).toEqual({
      a: { netns: 'a', kind: 'netns', inode: '1' },
      b: { netns: null, kind: 'host', links: ['e1', 'e2'], routes: ['inet 203.0.113.0/24 metric 0'], sysctls: { 'net.ipv4.conf.e2.forwarding': '0' } },
    });
  });

  it('forgets destroyed nodes, and the whole record with the last', () => {
    expect(Object.keys(recordLeftAfterDestroy(during, new Set(['a']))!.nodes)).toEqual(['b']);
    expect(recordLeftAfterDestroy(during, new Set(['a', 'b']))).toBeUndefined();
  });
});

describe('saved plans', () => {
  const desired = resolveLab(spec);
  const made = { kernel: fingerprintNodes(desired), record: null, plan: { changes: [1, 2] } };

  it('is current while nothing changed, whatever moves on its own (carrier, processes)', () => {
    const again = structuredClone(desired);
    again.nodes.get('a')!.pids = [42];
    again.nodes.get('a')!.links.get('e1')!.carrier = true;
    expect(staleness(made, { ...made, kernel: fingerprintNodes(again) })).toBeUndefined();
  });

  it('is stale when a node reads differently, the record changed, or the plan differs', () => {
    const again = structuredClone(desired);
    again.nodes.get('c')!.links.get('e1')!.addresses.push('192.0.2.7/32');
    expect(staleness(made, { ...made, kernel: fingerprintNodes(again) })).toBe('the kernel changed since it was made (node c read differently)');
    expect(staleness(made, { ...made, record: 'x' })).toMatch(/^the lab's record changed/);
    expect(staleness(made, { ...made, plan: { changes: [1] } })).toBe('netlab now plans 1 change(s) where the saved plan has 2');
  });

  it('names a format it cannot read, and a damaged file', () => {
    expect(savedPlanProblem({ format_version: 2 })).toMatch(/plan format 2, and this netlab reads format 1/);
    expect(savedPlanProblem({ format_version: 1, lab: 'x' })).toBe('it is damaged (file, content, file_sha256, kernel missing)');
  });
});
