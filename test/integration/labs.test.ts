// Every lab in topologies/ proves itself: apply, `netlab test` (its own tests, with traffic), the
// commands its `x-try:` offers (docs/labs.md shows them: each must explain what the probe finds),
// a clean plan, destroy, and nothing left. A lab whose `x-kernel:` lists kernel features this
// kernel lacks (vrf, bond, ...; src/model/features.ts) proves the refusal instead: plan and apply
// exit 1 naming the feature, and nothing is left; the full-kernel lane runs it for real.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { LabSpec } from '../../src/config/spec.js';
import { FEATURES, type FeatureId } from '../../src/model/features.js';
import { whatToTry } from '../../src/views/labs-doc.js';
import { LABS, prepareLab } from '../helpers/labs.js';
import { CLI, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

/** The features a lab's `x-kernel:` lists that this kernel lacks, each asked of the kernel in a throwaway namespace. */
async function lackedFeatures(spec: Record<string, unknown>): Promise<FeatureId[]> {
  const listed = (spec['x-kernel'] ?? []) as FeatureId[];
  const probed = await Promise.all(listed.map(async (f) => ((await sb.run(['unshare', '--net', 'sh', '-c', FEATURES[f].probe])).exitCode === 0 ? undefined : f)));
  return probed.filter((f): f is FeatureId => f !== undefined);
}

describe('the labs in topologies/', () => {
  it('holds at least six labs, every one with tests', () => {
    expect(LABS.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of LABS) {
    it(`${name}: applies, passes its tests, plans clean, destroys to nothing (refused where the kernel lacks its x-kernel)`, async () => {
      const { file, env } = await prepareLab(sb, name);
      const netlab = (...args: string[]) => sb.run([process.execPath, CLI, ...args], { env });
      const lacking = await lackedFeatures(parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>);
      if (lacking.length > 0) {
        for (const command of ['plan', 'apply']) {
          const refused = await netlab(command, file);
          expect(refused.exitCode, `${refused.stdout}\n${refused.stderr}`).toBe(1);
          for (const feature of lacking) expect(refused.stderr).toContain(`needs ${FEATURES[feature].needs}, which this kernel lacks`);
        }
        expect(await sb.leftovers()).toEqual([]);
        return;
      }
      const applied = await netlab('apply', file);
      expect(applied.exitCode, `${applied.stdout}\n${applied.stderr}`).toBe(0);
      const tested = await netlab('test', file);
      expect(tested.exitCode, `${tested.stdout}\n${tested.stderr}`).toBe(0);
      expect(tested.stdout).toMatch(/pass/i);
      for (const { run } of whatToTry(parseYaml(readFileSync(file, 'utf8')) as LabSpec)) {
        const tried = await netlab(...run.split(' ').slice(1));
        expect(tried.exitCode, `${run}\n${tried.stdout}\n${tried.stderr}`).toBe(0);
      }
      expect((await netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
      const destroyed = await netlab('destroy', file);
      expect(destroyed.exitCode, `${destroyed.stdout}\n${destroyed.stderr}`).toBe(0);
      expect(await sb.leftovers()).toEqual([]);
    });
  }
});
