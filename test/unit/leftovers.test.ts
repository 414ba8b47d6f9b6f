// What diff does with what the lab finds at its names but may not have made: a mount at an attach
// node's /run/netns name, an empty /etc/netns directory, and a node that changes kind. Pure.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState, type NodeState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { kindChanges, recordOf, recordWithout } from '../../src/state/kind-change.js';
import type { LabRecord } from '../../src/state/record.js';

const attachSpec: LabSpec = { name: 'guest', nodes: { foo: { kind: 'attach', path: '/run/netns/foo' } } };
const none = (lab: string): LabState => ({ lab, nodes: new Map() });

function attached(fields: Partial<NodeState>): LabState {
  const node = { ...emptyNode('foo', 'foo', true, 'attach'), source: '/run/netns/foo', ...fields };
  return { lab: 'guest', nodes: new Map([['foo', node]]) };
}

const kinds = (state: LabState) => diff(none('guest'), state).changes.map((c) => `${c.action} ${c.kind}`);

describe('an attach node leaving the file', () => {
  it('unpublishes only what the lab published', () => {
    expect(kinds(attached({ published: true }))).toEqual([]);
    expect(kinds(attached({ published: true, publishedByLab: true }))).toEqual(['delete publish']);
  });

  it('removes the empty file a stopped publish left, the namespace being gone or not', () => {
    expect(kinds(attached({ exists: false, publishBlocked: 'file', publishedByLab: true }))).toEqual(['delete publish']);
    expect(kinds(attached({ exists: false, publishBlocked: 'file' }))).toEqual([]);
  });
});

describe('an attach node in the file', () => {
  const desired = resolveLab(attachSpec);
  const conflicts = (state: LabState) => diff(desired, state).conflicts.map((c) => c.reason);

  it('is a conflict when its name holds another namespace, or a file that is not the lab\'s', () => {
    expect(conflicts(attached({ publishBlocked: 'namespace' }))).toEqual([expect.stringMatching(/^\/run\/netns\/foo is another namespace than \/run\/netns\/foo/)]);
    expect(conflicts(attached({ publishBlocked: 'file' }))).toEqual([expect.stringMatching(/exists, is not a namespace, and is not the lab's/)]);
  });

  it('publishes over the empty file a stopped publish of its own left', () => {
    const plan = diff(desired, attached({ publishBlocked: 'file', publishedByLab: true }));
    expect(plan.conflicts).toEqual([]);
    expect(plan.changes.map((c) => `${c.action} ${c.kind}: ${c.reason}`)).toEqual(['create publish: an empty file is left where an earlier run was publishing it']);
  });
});

describe('an empty /etc/netns/<name>', () => {
  const own = (fields: Partial<NodeState>): LabState => ({ lab: 'own', nodes: new Map([['a', { ...emptyNode('a', 'a', true), owner: 'own', ...fields }]]) });

  it('is removed with the namespace, and after it when the namespace is gone and the record knows the node', () => {
    expect(diff(none('own'), own({ etcDirLeft: true })).changes.map((c) => c.id)).toContain('dns/a');
    expect(diff(none('own'), own({ exists: false, etcDirLeft: true }), { known: new Set(['a']) }).changes.map((c) => c.id)).toEqual(['dns/a']);
    expect(diff(none('own'), own({ exists: false, resolvConf: 'nameserver 192.0.2.1\n' }), { known: new Set(['a']) }).changes.map((c) => c.id)).toEqual(['dns/a']);
  });

  it('is left alone when the record does not know the node', () => {
    expect(diff(none('own'), own({ exists: false, etcDirLeft: true })).changes).toEqual([]);
  });
});

describe('a node that changes kind', () => {
  const record: LabRecord = { lab: 'turn', updated: '', nodes: { hub: { netns: 'hub', kind: 'netns' }, ctr: { netns: 'ctr', kind: 'netns', inode: '7' } } };
  const desired = resolveLab({ name: 'turn', nodes: { hub: {}, ctr: { kind: 'attach', pid: 42 } } });

  it('is named, and the record splits around it', () => {
    expect(kindChanges(record, desired)).toEqual(['ctr']);
    expect(kindChanges(undefined, desired)).toEqual([]);
    expect(Object.keys(recordOf(record, ['ctr']).nodes)).toEqual(['ctr']);
    expect(Object.keys(recordWithout(record, ['ctr']).nodes)).toEqual(['hub']);
  });
});
