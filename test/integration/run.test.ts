// run: long-running commands in a node, kept running by apply and ended by destroy, with every
// other process left in the lab's namespaces.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = `
name: run-lab
nodes:
  a:
    interfaces: {eth0: {addresses: [198.51.100.1/24]}}
    run:
      - socat TCP-LISTEN:7001,reuseaddr,fork SYSTEM:'echo served-by-a'
      - echo started >&2; exec sleep 3001
  b:
    interfaces: {eth0: {addresses: [198.51.100.2/24]}}
links: [[a:eth0, b:eth0]]
`;

async function fetchFromB(): Promise<string> {
  for (let i = 0; i < 30; i++) {
    const r = await sb.inNs('b', ['socat', '-T', '2', '-', 'TCP:198.51.100.1:7001,connect-timeout=2']);
    if (r.exitCode === 0) return r.stdout.trim();
    await new Promise((done) => setTimeout(done, 100));
  }
  return 'no answer';
}

const running = async (pattern: string) => (await sb.run(['pgrep', '-f', pattern])).stdout.trim().split('\n').filter(Boolean).length;
const show = async (pattern: string) => (await sb.run(['pgrep', '-a', '-f', pattern])).stdout;

it('starts run commands after apply, lists them in plan, leaves them alone, restarts them when dead, and destroy ends every process inside', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'netlab-run-')), 'run.yaml');
  writeFileSync(file, LAB);
  const plan = await sb.netlab('plan', file);
  expect(plan.stdout).toMatch(/\+ run on a: socat TCP-LISTEN:7001,reuseaddr,fork SYSTEM:'echo served-by-a' +not running/);
  expect(plan.stdout).toMatch(/\+ run on a: echo started >&2; exec sleep 3001/);

  await sb.netlabOk('apply', file);
  expect(await fetchFromB()).toBe('served-by-a');
  // Its output is kept in a log under the lab's record.
  expect(await sb.ok(['sh', '-c', 'cat /run/netlab/run-lab/run/a.*.log'])).toMatch(/started/);

  const again = await sb.netlabOk('apply', file);
  expect(again.stdout).toMatch(/no changes, nothing written/);
  expect(await running('^sleep 3001')).toBe(1);

  await sb.ok(['pkill', '-f', '^sleep 3001']);
  const replan = await sb.netlab('plan', '--detailed-exitcode', file);
  expect(replan.exitCode).toBe(2);
  expect(replan.stdout).toMatch(/\+ run on a: echo started >&2; exec sleep 3001 +exited \(its output: .*\); started again/);
  await sb.netlabOk('apply', file);
  expect(await running('^sleep 3001')).toBe(1);

  // A process nobody asked for, left in the lab's namespace, goes with it.
  await sb.ok(['sh', '-c', 'nsenter --net=/run/netns/b sleep 3002 >/dev/null 2>&1 &']);
  await sb.netlabOk('destroy', 'run-lab');
  expect(await show('sleep 300[12]|socat TCP-LISTEN:7001')).toBe('');
  expect(await sb.leftovers()).toEqual([]);
});

it('stops a run command that leaves the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-run-'));
  const file = join(dir, 'run.yaml');
  writeFileSync(file, LAB);
  await sb.netlabOk('apply', file);
  const fewer = join(dir, 'fewer.yaml');
  writeFileSync(fewer, LAB.replace(/ +- echo started.*\n/, ''));
  const applied = await sb.netlabOk('apply', fewer);
  expect(applied.stdout).toMatch(/- run on a: echo started >&2; exec sleep 3001 +not in the file/);
  expect(await running('^sleep 3001')).toBe(0);
  expect(await fetchFromB()).toBe('served-by-a');
  await sb.netlabOk('destroy', 'run-lab');
  expect(await sb.leftovers()).toEqual([]);
});
