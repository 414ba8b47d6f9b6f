// Every lab in topologies/ proves itself: apply, `netlab test` (its own tests, with traffic), a
// clean plan, destroy, and nothing left.
import { describe, expect, it } from 'vitest';
import { LABS, prepareLab } from '../helpers/labs.js';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

describe('the labs in topologies/', () => {
  it('holds at least six labs, every one with tests', () => {
    expect(LABS.length).toBeGreaterThanOrEqual(6);
  });

  for (const name of LABS) {
    it(`${name}: applies, passes its tests, plans clean, destroys to nothing`, async () => {
      const file = await prepareLab(sb, name);
      await sb.netlabOk('apply', file);
      const tested = await sb.netlab('test', file);
      expect(tested.exitCode, `${tested.stdout}\n${tested.stderr}`).toBe(0);
      expect(tested.stdout).toMatch(/pass/i);
      expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
      await sb.netlabOk('destroy', file);
      expect(await sb.leftovers()).toEqual([]);
    });
  }
});
