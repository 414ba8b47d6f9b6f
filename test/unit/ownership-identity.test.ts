// What a record must look like before it is acted on, what the kernel's marks stand in for when it
// is not, and how a new namespace carries its run's proof: the pure parts.
import { describe, expect, it } from 'vitest';
import { commandsOf } from '../../src/resources/registry.js';
import { tableOwner } from '../../src/kernel/marks.js';
import { creatingNodes, nodesFromMarks, recordBeforeRun } from '../../src/state/bookkeeping.js';
import { recordProblem } from '../../src/state/record-shape.js';
import type { Change } from '../../src/plan/change.js';
import { emptyNode, type LabState } from '../../src/model/types.js';

const good = { lab: 'ra', updated: '', nodes: { a: { netns: 'a', kind: 'netns', inode: '4026532', creating: true, nsid: 70000 }, host: { netns: null, kind: 'host', links: ['br0'], sysctls: { 'net.ipv4.ip_forward': '0' } } } };

describe('recordProblem', () => {
  it('accepts a record netlab writes', () => {
    expect(recordProblem(good, 'ra')).toBeUndefined();
  });

  it('names another lab\'s record', () => {
    expect(recordProblem(good, 'rb')).toBe("is lab ra's, not rb's");
    expect(recordProblem({ ...good, lab: 'x\ny' }, 'rb')).toBe('is lab "x\\ny"\'s, not rb\'s');
  });

  it.each([
    ['not an object', [1, 2]],
    ['no nodes', { lab: 'ra' }],
    ['nodes a list', { lab: 'ra', nodes: [] }],
    ['a node without kind', { lab: 'ra', nodes: { a: { netns: 'a' } } }],
    ['an unknown kind', { lab: 'ra', nodes: { a: { netns: 'a', kind: 'vm' } } }],
    ['a namespace name that would be a second ip batch line', { lab: 'ra', nodes: { a: { netns: 'a\nnetns del b', kind: 'netns' } } }],
    ['a namespace name that leaves /run/netns', { lab: 'ra', nodes: { a: { netns: '..', kind: 'netns' } } }],
    ['a link name with a space', { lab: 'ra', nodes: { h: { netns: null, kind: 'host', links: ['eth0 down'] } } }],
    ['a sysctl value over two lines', { lab: 'ra', nodes: { h: { netns: null, kind: 'host', sysctls: { 'net.ipv4.ip_forward': '1\n2' } } } }],
    ['an inode that is not a number', { lab: 'ra', nodes: { a: { netns: 'a', kind: 'netns', inode: 'x' } } }],
  ])('refuses %s', (_, value) => {
    expect(recordProblem(value, 'ra')).toMatch(/^is not a lab record \(/);
  });
});

describe('tableOwner', () => {
  const table = (rules: Array<string | undefined>, comment?: string) =>
    JSON.stringify({ nftables: [{ metainfo: {} }, { table: { family: 'inet', name: 'netlab-ra', ...(comment ? { comment } : {}) } }, ...rules.map((c) => ({ rule: { chain: 'x', handle: 1, expr: [], ...(c ? { comment: c } : {}) } }))] });

  it('is the lab\'s when every rule carries netlab\'s comment, or the table carries the lab\'s mark', () => {
    expect(tableOwner('ra', table(['netlab:abc', 'netlab:def']))).toBe('lab');
    expect(tableOwner('ra', table([], 'netlab:ra'))).toBe('lab');
  });

  it('proves nothing when empty, when a rule is someone else\'s, or when the output is not nft\'s', () => {
    expect(tableOwner('ra', table([]))).toBe('unproven');
    expect(tableOwner('ra', table(['netlab:abc', undefined]))).toBe('unproven');
    expect(tableOwner('ra', table([], 'netlab:rb'))).toBe('unproven');
    expect(tableOwner('ra', 'garbage')).toBe('unproven');
  });
});

describe('nodesFromMarks', () => {
  it('lists marked namespaces, and the root namespace under the file\'s name for it when something there is the lab\'s', () => {
    expect(nodesFromMarks({ namespaces: ['a'], hostLinks: ['br0'], hostTable: 'lab' }, 'root')).toEqual({
      a: { netns: 'a', kind: 'netns' },
      root: { netns: null, kind: 'host', links: ['br0'], nft: {} },
    });
    expect(nodesFromMarks({ namespaces: [], hostLinks: [], hostTable: 'unproven' }, 'host')).toEqual({});
  });
});

describe('a new namespace and its id', () => {
  const create: Change = { id: 'netns/a', node: 'a', netns: 'a', kind: 'netns', action: 'create', nsid: 123456, reason: 'namespace missing' };

  it('is given its id by the same ip batch that makes it', () => {
    expect(commandsOf(create)).toEqual([
      { tool: 'ip', line: 'netns add a' },
      { tool: 'ip', line: 'netns set a 123456' },
    ]);
    expect(commandsOf({ ...create, stale: true }).map((c) => (c.tool === 'ip' ? c.line : ''))).toEqual(['netns del a', 'netns add a', 'netns set a 123456']);
  });

  it('is recorded before the run, and only a creating node with an id can be adopted unmarked', () => {
    const desired: LabState = { lab: 'ra', nodes: new Map([['a', emptyNode('a', 'a', true)]]) };
    const record = recordBeforeRun(undefined, desired, { lab: 'ra', nodes: new Map() }, [create], 'ra.yaml');
    expect(record.nodes.a).toMatchObject({ creating: true, nsid: 123456 });
    expect(creatingNodes(record)).toEqual(new Map([['a', 123456]]));
    expect(creatingNodes({ ...record, nodes: { a: { netns: 'a', kind: 'netns', creating: true } } })).toEqual(new Map());
  });
});
