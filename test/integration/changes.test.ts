// Changes to a file between applies converge in one apply: the next plan is clean and traffic
// goes where the new file says.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useSandbox, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));
const scratch = mkdtempSync(join(tmpdir(), 'netlab-changes-'));

/** Applies the first text, then the second once: that apply succeeds and leaves nothing to do. */
async function applyThenChange(name: string, first: string, second: string): Promise<string> {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, first);
  await sb.netlabOk('apply', file);
  writeFileSync(file, second);
  const r = await sb.netlab('apply', file);
  expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
  const plan = await sb.netlab('plan', '--detailed-exitcode', file);
  expect(plan.exitCode, plan.stdout).toBe(0);
  return file;
}

const fourNodes = (links: string) => `name: swap
nodes:
  a: {interfaces: {eth0: {addresses: [10.7.0.1/24]}}}
  b: {interfaces: {eth0: {addresses: [10.7.0.2/24]}}}
  c: {interfaces: {eth0: {addresses: [10.7.0.3/24]}}}
  d: {interfaces: {eth0: {addresses: [10.7.0.4/24]}}}
links: ${links}
`;

describe('changes between applies', () => {
  it('link ends swapped between pairs are joined anew, though every first veth has ifindex 2', async () => {
    const file = await applyThenChange('swap', fourNodes('[[a:eth0, b:eth0], [c:eth0, d:eth0]]'), fourNodes('[[a:eth0, c:eth0], [b:eth0, d:eth0]]'));
    expect(await sb.ping('a', '10.7.0.3')).toBe(true);
    expect(await sb.ping('b', '10.7.0.4')).toBe(true);
    expect(await sb.ping('a', '10.7.0.2', 1)).toBe(false);
    await sb.netlabOk('destroy', file);
  });

  const asInterface = `name: morph
nodes:
  a: {interfaces: {x: {addresses: [10.8.0.1/24]}}}
  b: {interfaces: {eth0: {addresses: [10.8.0.2/24]}}}
links: [[a:x, b:eth0]]
`;
  const asBridge = `name: morph
nodes:
  a: {bridges: {x: {addresses: [10.8.0.1/24]}}}
  b: {interfaces: {eth0: {addresses: [10.8.0.2/24]}}}
links: [[b:eth0, a:x]]
`;

  it('an interface turned into a bridge of the same name', async () => {
    const file = await applyThenChange('morph', asInterface, asBridge);
    expect(await sb.ping('b', '10.8.0.1')).toBe(true);
    await sb.netlabOk('destroy', file);
  });

  it('a bridge turned into an interface of the same name', async () => {
    const file = await applyThenChange('morph', asBridge, asInterface);
    expect(await sb.ping('b', '10.8.0.1')).toBe(true);
    await sb.netlabOk('destroy', file);
  });

  const routed = (eth0: string, routes: string) => `name: down
nodes:
  a: {interfaces: {eth0: ${eth0}}, routes: ${routes}}
  b: {interfaces: {eth0: {addresses: [10.9.0.2/24]}}}
links: [[a:eth0, b:eth0]]
`;

  it('up: false together with a route through the interface removed', async () => {
    const file = await applyThenChange('down', routed('{addresses: [10.9.0.1/24]}', '[{to: 10.99.0.0/16, via: 10.9.0.2}]'), routed('{addresses: [10.9.0.1/24], up: false}', '[]'));
    const [eth0] = await sb.ipJson<Array<{ flags: string[] }>>('a', ['link', 'show', 'eth0']);
    expect(eth0!.flags).not.toContain('UP');
    await sb.netlabOk('destroy', file);
  });
});
