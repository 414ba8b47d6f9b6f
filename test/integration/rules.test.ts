// Policy routing against a real kernel: replies leave by the uplink their request came in on.
// Node a has two uplinks and one default route, by r1, which does not reach x; only the rule that
// sends what a answers from its r2 address to table uplink2 lets x's ping be answered.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = `name: policy
nodes:
  x:
    interfaces:
      eth0: {addresses: [203.0.113.5/24]}
    routes: [{to: default, via: 203.0.113.1}]
  r2:
    sysctls: {net.ipv4.ip_forward: 1}
    interfaces:
      eth0: {addresses: [203.0.113.1/24]}
      eth1: {addresses: [198.51.100.1/24]}
  r1:
    interfaces:
      eth0: {addresses: [192.0.2.1/24]}
  a:
    interfaces:
      eth0: {addresses: [192.0.2.10/24]}
      eth1: {addresses: [198.51.100.10/24]}
    tables: {uplink2: 200}
    routes:
      - {to: default, via: 192.0.2.1}
      - {to: default, via: 198.51.100.1, table: uplink2}
    rules:
      - {priority: 100, from: 198.51.100.10, table: uplink2}
links:
  - [x:eth0, r2:eth0]
  - [r2:eth1, a:eth1]
  - [r1:eth0, a:eth0]
`;

interface Rule {
  priority: number;
  src?: string;
  table?: string;
  protocol?: string;
}

describe('rules', () => {
  it('send replies back by the uplink they came in on; a rule deleted by hand is planned and put back, one added by hand removed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netlab-rules-')), 'lab.yaml');
    writeFileSync(file, LAB);
    await sb.netlabOk('apply', file);
    expect(await sb.ping('x', '198.51.100.10')).toBe(true);
    const rules = (await sb.ipJson<Rule[]>('a', ['rule', 'show'])).filter((r) => r.protocol === '77');
    expect(rules).toEqual([expect.objectContaining({ priority: 100, src: '198.51.100.10', table: '200' })]);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    const status = JSON.parse((await sb.netlabOk('status', '--json', 'policy')).stdout) as { labs: Array<{ nodes: Array<{ node: string; rules: string[] }> }> };
    expect(status.labs[0]!.nodes.find((n) => n.node === 'a')!.rules).toEqual(['priority 100 from 198.51.100.10/32 lookup 200']);

    // Without the rule the reply leaves by r1, which has no way to x.
    await sb.ok(['ip', '-n', 'a', 'rule', 'del', 'priority', '100']);
    expect(await sb.ping('x', '198.51.100.10', 1)).toBe(false);
    await sb.ok(['ip', '-n', 'a', 'rule', 'add', 'priority', '200', 'from', '192.0.2.10', 'lookup', 'main']);
    const drift = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/\+ rule on a: priority 100 from 198\.51\.100\.10\/32 lookup 200/);
    expect(drift.stdout).toMatch(/- rule on a: priority 200 from 192\.0\.2\.10\/32 lookup 254/);
    await sb.netlabOk('apply', file);
    expect(await sb.ping('x', '198.51.100.10')).toBe(true);
    expect((await sb.ipJson<Rule[]>('a', ['rule', 'show'])).map((r) => r.priority)).toEqual([0, 100, 32766, 32767]);

    // A changed rule is one change: deleted and added again by the same ip process.
    writeFileSync(file, LAB.replace('{priority: 100, from: 198.51.100.10, table: uplink2}', '{priority: 100, from: 198.51.100.0/24, table: uplink2}'));
    await sb.netlabOk('apply', file);
    expect((await sb.ipJson<Rule[]>('a', ['rule', 'show'])).find((r) => r.priority === 100)).toEqual(expect.objectContaining({ src: '198.51.100.0', table: '200' }));
    expect(await sb.ping('x', '198.51.100.10')).toBe(true);

    await sb.netlabOk('destroy', file);
    expect(await sb.leftovers()).toEqual([]);
  });
});
