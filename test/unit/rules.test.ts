// Policy routing rules, the pure parts: read from `ip -j rule show` (with and without -d), the
// kernel's own three left out, compared, and written; a changed rule deleted and added at once.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, ruleKey, type NodeState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { IP_READS, commandsOf } from '../../src/resources/registry.js';

const read = (json: unknown[]): NodeState => {
  const node = emptyNode('a', 'a', true);
  IP_READS.find((r) => r.line === 'rule show')!.parse(json, node);
  return node;
};

describe('rules', () => {
  it("reads the lab's rules and leaves the kernel's three out, as ip and ip -d print them", () => {
    const plain = read([
      { priority: 0, src: 'all', table: 'local' },
      { priority: 100, src: '192.0.2.5', table: '5', protocol: '77' },
      { priority: 101, src: 'all', dst: '10.0.0.0', dstlen: 8, fwmark: '0x10', fwmask: '0xf0', oif: 'va', table: 'main', protocol: '77' },
      { priority: 102, src: 'all', iif: 'va', action: 'unreachable', protocol: '77' },
      { priority: 32766, src: 'all', table: 'main' },
      { priority: 32767, src: 'all', table: 'default' },
    ]);
    expect([...plain.rules.values()]).toEqual([
      { priority: 100, from: '192.0.2.5/32', table: 5, protocol: '77' },
      { priority: 101, to: '10.0.0.0/8', oif: 'va', fwmark: 16, fwmask: 240, table: 254, protocol: '77' },
      { priority: 102, iif: 'va', action: 'unreachable', protocol: '77' },
    ]);
    const detailed = read([{ priority: 0, src: 'all', table: 'local', protocol: 'kernel' }, { priority: 103, src: '198.51.100.0', srclen: 24, action: 'prohibit', protocol: 'unspec' }]);
    expect([...detailed.rules.values()]).toEqual([{ priority: 103, from: '198.51.100.0/24', action: 'prohibit' }]);
  });

  it('makes the file rule, changes one by delete and add in one process, and removes one not in the file', () => {
    const desired = resolveLab({
      name: 'r',
      nodes: { a: { interfaces: { eth0: { addresses: ['192.0.2.1/24'] } }, tables: { up2: 200 }, rules: [{ priority: 100, from: '192.0.2.0/24', table: 'up2' }, { priority: 110, fwmark: '0x1/0xff', action: 'blackhole' }] }, b: {} },
      links: [['a:eth0', 'b:eth0']],
    });
    const want = desired.nodes.get('a')!;
    expect([...want.rules.values()]).toEqual([{ priority: 100, from: '192.0.2.0/24', table: 200 }, { priority: 110, fwmark: 1, fwmask: 255, action: 'blackhole' }]);
    const made = diff(desired, { lab: 'r', nodes: new Map() }).changes.filter((c) => c.kind === 'rule');
    expect(made.flatMap(commandsOf).map((c) => (c.tool === 'ip' ? c.line : ''))).toEqual(['rule add priority 100 from 192.0.2.0/24 lookup 200 proto 77', 'rule add priority 110 fwmark 1/255 blackhole proto 77']);

    const have = { ...want, owner: 'r', exists: true, rules: new Map(want.rules) };
    have.rules.set(ruleKey({ priority: 100 }), { priority: 100, from: '192.0.2.0/25', table: 200, protocol: '77' });
    have.rules.set(ruleKey({ priority: 300 }), { priority: 300, table: 254 });
    const actual = { lab: 'r', nodes: new Map([['a', have], ['b', { ...desired.nodes.get('b')!, owner: 'r', exists: true }]]) };
    const changes = diff(desired, actual).changes.filter((c) => c.kind === 'rule');
    expect(changes.map((c) => `${c.action} ${c.id}`)).toEqual(['update rule/a/100', 'delete rule/a/300']);
    expect(commandsOf(changes[0]!)).toEqual([{ tool: 'ip', line: 'rule del priority 100' }, { tool: 'ip', line: 'rule add priority 100 from 192.0.2.0/24 lookup 200 proto 77' }]);
    expect(commandsOf(changes[1]!)).toEqual([{ tool: 'ip', line: 'rule del priority 300' }]);
  });
});
