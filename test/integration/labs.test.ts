// Every lab in topologies/ proves itself: apply, `netlab test` (its own tests, with traffic), the
// commands its `x-try:` offers (docs/labs.md shows them: each must explain what the probe finds),
// a clean plan, destroy, and nothing left.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { LabSpec } from '../../src/config/spec.js';
import { whatToTry } from '../../src/views/labs-doc.js';
import { LABS, LABS_NOT_HERE, prepareLab } from '../helpers/labs.js';
import { CLI, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

describe('the labs in topologies/', () => {
  it('holds at least six labs, every one with tests', () => {
    expect(LABS.length).toBeGreaterThanOrEqual(6);
  });

  for (const { name, missing } of LABS_NOT_HERE) it.skip(`${name}: needs ${missing.join(', ')}, which this kernel lacks (the full-kernel lane runs it)`, () => {});

  for (const name of LABS) {
    it(`${name}: applies, passes its tests, plans clean, destroys to nothing`, async () => {
      const { file, env } = await prepareLab(sb, name);
      const netlab = (...args: string[]) => sb.run([process.execPath, CLI, ...args], { env });
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
