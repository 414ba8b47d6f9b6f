// netlab script against a real kernel, inside a sandbox: for every lab in topologies/, the script
// run with `sh -e` builds a lab that `netlab plan` finds clean, and netlab destroys it to nothing.
// A lab whose `x-kernel:` lists what this kernel lacks gets its script written, not run: the
// full-kernel lane runs it. Also apply --json, which streams what execute does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FEATURES, type FeatureId } from '../../src/model/features.js';
import { LABS, prepareLab } from '../helpers/labs.js';
import { CLI, type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';


let sb: Sandbox;

useSandbox((s) => (sb = s));

/** The features a lab's `x-kernel:` lists that this kernel lacks, each asked of the kernel in a throwaway namespace. */
async function lackedFeatures(file: string): Promise<FeatureId[]> {
  const listed = ((parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>)['x-kernel'] ?? []) as FeatureId[];
  const probed = await Promise.all(listed.map(async (f) => ((await sb.run(['unshare', '--net', 'sh', '-c', FEATURES[f].probe])).exitCode === 0 ? undefined : f)));
  return probed.filter((f): f is FeatureId => f !== undefined);
}

describe('netlab script', () => {
  it('finds the labs to check', () => {
    expect(LABS.length).toBeGreaterThan(0);
  });

  for (const name of LABS) {
    it(`${name}: sh -e builds it, plan finds it clean, destroy leaves nothing`, async () => {
      const { file, env } = await prepareLab(sb, name);
      const netlab = (...args: string[]) => sb.run([process.execPath, CLI, ...args], { env });
      const script = await netlab('script', file);
      expect(script.stderr).toBe('');
      expect(script.exitCode).toBe(0);
      expect(script.stdout).toMatch(/^#!\/bin\/sh\n/);
      if ((await lackedFeatures(file)).length > 0) return;

      const ran = await sb.run(['sh', '-e', '-s'], { input: script.stdout });
      expect(ran.exitCode, `${ran.stdout}\n${ran.stderr}`).toBe(0);

      const plan = await netlab('plan', '--detailed-exitcode', file);
      expect(plan.exitCode, plan.stdout + plan.stderr).toBe(0);

      const destroyed = await netlab('destroy', file);
      expect(destroyed.exitCode, destroyed.stderr).toBe(0);
      expect(await sb.leftovers()).toEqual([]);
    });
  }
});

describe('netlab apply --json', () => {
  it('streams one JSON line per change done, then a summary, and no progress line off a terminal', async () => {
    const file = join(TOPOLOGIES, 'seed-001-two-veths.yaml');
    const applied = await sb.netlab('apply', '--json', file);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stderr).toBe('');
    const events = applied.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'begin', lab: 'seed-001-two-veths' });
    const done = events.filter((e) => e.event === 'done');
    expect(done.length).toBe(events[0]!.total);
    expect(done).toContainEqual(expect.objectContaining({ kind: 'netns', action: 'create', node: 'netns0' }));
    expect(events.at(-1)).toMatchObject({ event: 'summary', ok: true, done: done.length, failed: 0, skipped: 0, verified: true });

    const again = await sb.netlab('apply', '--json', file);
    expect(again.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ event: 'summary', ok: true, done: 0, changes: { create: 0, update: 0, delete: 0 } }),
    ]);
    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('tells a failed change with its command, and a conflict as a summary that is not ok', async () => {
    const lab = 'name: badsys\nnodes:\n  a:\n    sysctls: {net.ipv4.no_such_key: 1}\n  b: {}\nlinks:\n  - [a:eth0, b:eth0]\n';
    await sb.ok(['sh', '-c', `mkdir -p /run/netlab-test && cat > /run/netlab-test/bad.yaml`], lab);
    const applied = await sb.netlab('apply', '--json', '/run/netlab-test/bad.yaml');
    expect(applied.exitCode).toBe(1);
    const events = applied.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'failed', kind: 'sysctl', error: expect.objectContaining({ command: expect.stringContaining('no_such_key') }) }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'summary', ok: false, failed: 1 });
    expect(applied.stderr).toMatch(/change\(s\) failed/);
    expect((await sb.netlab('destroy', 'badsys')).exitCode).toBe(0);

    await sb.ok(['ip', 'netns', 'add', 'netns0']);
    const refused = await sb.netlab('apply', '--json', join(TOPOLOGIES, 'seed-001-two-veths.yaml'));
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout.trim())).toMatchObject({ event: 'summary', ok: false, error: { message: expect.stringMatching(/netns0/) } });
    await sb.ok(['ip', 'netns', 'del', 'netns0']);
    await sb.ok(['rm', '-rf', '/run/netlab-test']);
    expect(await sb.leftovers()).toEqual([]);
  });
});
