// The nftables table a node's nat and firewall keys ask for, and how a kernel table is compared.
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../src/config/spec.js';
import { parseNftTable, tableCommentFromText } from '../../src/kernel/nft-parse.js';
import { desiredNftTable, natTarget, nftReplaceScript } from '../../src/model/nft.js';
import { emptyNode, type LabState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';

const host: NodeSpec = {
  nat: [
    { type: 'masquerade', source: '172.18.0.0/16', out: '!br0' },
    { type: 'snat', source: '10.0.0.0/8', out: 'eth0', to: '198.51.100.100' },
    { type: 'dnat', in: 'eth0', proto: 'tcp', port: 1234, to: '172.18.0.10:11211', local: true },
    { type: 'dnat', proto: 'udp', port: 53, to: '[2001:db8::53]:5353' },
  ],
  firewall: {
    forward: {
      policy: 'drop',
      rules: [
        { in: 'br0', out: 'br0', action: 'accept' },
        { state: ['established', 'related'], action: 'accept' },
        { source: '172.18.0.0/16', proto: 'tcp', port: 22, action: 'reject' },
        { proto: 'icmpv6', action: 'accept' },
      ],
    },
    input: { policy: 'accept' },
  },
};

describe('desired nftables table', () => {
  it('renders the seed rules as nft syntax, in chains by hook', () => {
    const table = desiredNftTable(host)!;
    expect(table.chains.map((c) => [c.name, c.hook, c.priority, c.policy, c.rules.map((r) => r.text)])).toEqual([
      [
        'nat_prerouting',
        'prerouting',
        -100,
        'accept',
        ['iifname "eth0" tcp dport 1234 dnat ip to 172.18.0.10:11211', 'udp dport 53 dnat ip6 to [2001:db8::53]:5353'],
      ],
      ['nat_output', 'output', -100, 'accept', ['fib daddr type local tcp dport 1234 dnat ip to 172.18.0.10:11211']],
      [
        'nat_postrouting',
        'postrouting',
        100,
        'accept',
        ['ip saddr 172.18.0.0/16 oifname != "br0" masquerade', 'ip saddr 10.0.0.0/8 oifname "eth0" snat ip to 198.51.100.100'],
      ],
      ['input', 'input', 0, 'accept', []],
      [
        'forward',
        'forward',
        0,
        'drop',
        [
          'iifname "br0" oifname "br0" accept',
          'ct state { established, related } accept',
          'ip saddr 172.18.0.0/16 tcp dport 22 reject',
          'meta l4proto ipv6-icmp accept',
        ],
      ],
    ]);
    expect(new Set(table.chains.flatMap((c) => c.rules.map((r) => r.id))).size).toBe(9);
  });

  it('has no table for a node without nat or firewall', () => {
    expect(desiredNftTable({})).toBeUndefined();
  });

  it('writes nat targets for both families', () => {
    expect(natTarget('172.18.0.10')).toBe('ip to 172.18.0.10');
    expect(natTarget('[2001:db8::1]:80')).toBe('ip6 to [2001:db8::1]:80');
    expect(natTarget('2001:db8::1')).toBe('ip6 to 2001:db8::1');
  });

  it('replaces the table in one transaction, idempotent when it does not exist, with the lab\'s mark as its comment', () => {
    const script = nftReplaceScript('demo', desiredNftTable({ nat: [{ type: 'masquerade', out: '!br0' }] }));
    expect(script.split('\n').slice(0, 6)).toEqual([
      'table inet netlab-demo {}',
      'delete table inet netlab-demo',
      'table inet netlab-demo {',
      '  comment "netlab:demo"',
      '  chain nat_postrouting {',
      '    type nat hook postrouting priority 100; policy accept;',
    ]);
    expect(script).toMatch(/ {4}oifname != "br0" masquerade comment "netlab:[0-9a-f]{12}"\n/);
    expect(nftReplaceScript('demo', undefined)).toBe('table inet netlab-demo {}\ndelete table inet netlab-demo\n');
  });
});

describe('nftables drift', () => {
  const want = desiredNftTable({ nat: [{ type: 'masquerade', source: '172.18.0.0/16', out: '!br0' }], firewall: { forward: { policy: 'drop', rules: [{ action: 'accept', in: 'a' }] } } })!;
  const [postrouting, forward] = want.chains;

  /** The kernel's JSON for the table as apply writes it, optionally edited. */
  function kernelJson(edit: (rules: Array<Record<string, unknown>>) => void = () => {}): string {
    const rules: Array<Record<string, unknown>> = [
      { chain: 'nat_postrouting', handle: 4, comment: postrouting!.rules[0]!.id, expr: [{ masquerade: null }] },
      { chain: 'forward', handle: 5, comment: forward!.rules[0]!.id, expr: [{ accept: null }] },
    ];
    edit(rules);
    return JSON.stringify({
      nftables: [
        { chain: { name: 'nat_postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } },
        { chain: { name: 'forward', type: 'filter', hook: 'forward', prio: 0, policy: 'drop' } },
        ...rules.map((rule) => ({ rule })),
      ],
    });
  }

  function planWith(json: string, fingerprints: Record<string, string> = {}) {
    const desired: LabState = { lab: 'demo', nodes: new Map([['r', { ...emptyNode('r', 'r', true), nft: want }]]) };
    const actual: LabState = { lab: 'demo', nodes: new Map([['r', { ...emptyNode('r', 'r', true), owner: 'demo', loUp: true, nft: parseNftTable(json) }]]) };
    return diff(desired, actual, { nftFingerprints: new Map([['r', fingerprints]]) });
  }

  it('is clean when every rule is there in order', () => {
    expect(planWith(kernelJson()).changes).toEqual([]);
  });

  it('names a missing rule, an extra rule, a changed policy and a rule edited by hand', () => {
    const fingerprints = Object.fromEntries(parseNftTable(kernelJson()).chains.flatMap((c) => c.rules.map((r) => [r.id, r.fingerprint!])));
    const edited = kernelJson((rules) => {
      rules.splice(0, 1);
      rules.push({ chain: 'forward', handle: 9, expr: [{ drop: null }] });
      (rules[0]!.expr as unknown[]).push({ counter: null });
    }).replace('"policy": "drop"', '"policy": "accept"');
    const [change] = planWith(edited.replace('"prio":0,"policy":"drop"', '"prio":0,"policy":"accept"'), fingerprints).changes;
    expect(change).toMatchObject({ kind: 'nftables', action: 'update' });
    expect(change!.kind === 'nftables' && change!.details.map((d) => `${d.action} ${d.text} (${d.reason})`)).toEqual([
      'create rule in nat_postrouting: ip saddr 172.18.0.0/16 oifname != "br0" masquerade (rule missing)',
      'update chain forward policy drop (policy is accept)',
      'update rule in forward: iifname "a" accept (rule changed by hand)',
      "delete rule in forward (handle 9) (not the lab's rule)",
    ]);
  });

  it('deletes the table when the file no longer asks for one', () => {
    const desired: LabState = { lab: 'demo', nodes: new Map([['r', emptyNode('r', 'r', true)]]) };
    const actual: LabState = { lab: 'demo', nodes: new Map([['r', { ...emptyNode('r', 'r', true), owner: 'demo', loUp: true, nft: parseNftTable(kernelJson()) }]]) };
    expect(diff(desired, actual).changes.map((c) => `${c.action} ${c.id}`)).toEqual(['delete nftables/r']);
  });
});

describe("the lab's table where it does not own the namespace", () => {
  const want = desiredNftTable({ nat: [{ type: 'masquerade', source: '172.18.0.0/16' }] })!;
  const [rule] = want.chains[0]!.rules;
  const json = (comment?: string, ruleComment = rule!.id) =>
    JSON.stringify({
      nftables: [
        { table: { family: 'inet', name: 'netlab-demo', ...(comment ? { comment } : {}) } },
        { chain: { name: 'nat_postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } },
        { rule: { chain: 'nat_postrouting', handle: 4, comment: ruleComment, expr: [{ masquerade: null }] } },
      ],
    });

  function planHost(table: string, options: { wanted: boolean; recorded?: Record<string, string> }) {
    const desired: LabState = { lab: 'demo', nodes: new Map([['root', { ...emptyNode('root', null, true, 'host'), ...(options.wanted ? { nft: want } : {}) }]]) };
    const actual: LabState = { lab: 'demo', nodes: new Map([['root', { ...emptyNode('root', null, true, 'host'), nft: parseNftTable(table) }]]) };
    const partial = new Map([['root', { links: new Set<string>(), addresses: new Map(), routes: new Set<string>(), ...(options.recorded ? { nftRules: options.recorded } : {}) }]]);
    return diff(desired, actual, { partial });
  }

  it('reads the owner from the comment, in JSON or in the text nft 1.0.6 prints', () => {
    expect(parseNftTable(json('netlab:demo')).owner).toBe('demo');
    expect(parseNftTable(json()).owner).toBeUndefined();
    expect(tableCommentFromText('table inet netlab-demo { # handle 3\n\tcomment "netlab:demo"\n\tchain c {\n\t}\n}\n')).toBe('netlab:demo');
    expect(tableCommentFromText('table inet netlab-demo {\n\tchain c {\n\t\tcounter comment "netlab:demo"\n\t}\n}\n')).toBeUndefined();
  });

  it('is the lab\'s with its mark, and is then compared like any other', () => {
    expect(planHost(json('netlab:demo'), { wanted: true })).toMatchObject({ changes: [], conflicts: [] });
    expect(planHost(json('netlab:demo'), { wanted: false }).changes.map((c) => `${c.action} ${c.id}`)).toEqual(['delete nftables/root']);
  });

  it('without the mark is a conflict when the file wants a table, and is left alone when it does not', () => {
    const wanted = planHost(json(), { wanted: true });
    expect(wanted.changes).toEqual([]);
    expect(wanted.conflicts.map((c) => c.reason)).toEqual([
      'table inet netlab-demo in node root already exists and is not the lab\'s (it lacks the comment "netlab:demo") — delete it (nft delete table inet netlab-demo) or give the lab another name',
    ]);
    expect(planHost(json('netlab:other'), { wanted: true }).conflicts).toHaveLength(1);
    expect(planHost(json(), { wanted: false })).toMatchObject({ changes: [], conflicts: [] });
  });

  it('without the mark is the lab\'s when it holds exactly the rules the record lists, unchanged (a table made before tables were marked)', () => {
    const fingerprint = parseNftTable(json()).chains[0]!.rules[0]!.fingerprint!;
    expect(planHost(json(), { wanted: true, recorded: { [rule!.id]: fingerprint } })).toMatchObject({ changes: [], conflicts: [] });
    expect(planHost(json(), { wanted: true, recorded: { [rule!.id]: 'other' } }).conflicts).toHaveLength(1);
  });
});
