// Interface names, whether the lab creates them or a rule matches them: the kernel's limits.
import { ifnameProblem, MAX_IFNAME_BYTES } from '../../model/names.js';
import type { Path } from '../problem.js';
import { report, type Ctx } from './context.js';

export function ifnameMessage(name: string, context: string): { message: string; hint: string } | undefined {
  const problem = ifnameProblem(name);
  if (problem === undefined) return undefined;
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_IFNAME_BYTES) {
    return {
      message: `interface name ${JSON.stringify(name)}${context} is ${bytes} bytes long`,
      hint: `the kernel allows at most ${MAX_IFNAME_BYTES}; use a shorter name`,
    };
  }
  return { message: `interface name ${JSON.stringify(name)}${context} is not allowed`, hint: `an interface name ${problem}` };
}

/** Checks an interface name the lab creates; true when it is fine. */
export function checkIfname(ctx: Ctx, name: string, path: Path, context = '', part?: 'key' | 'value'): boolean {
  if (name === 'lo') {
    report(ctx, path, `interface name "lo"${context} is the loopback device that every namespace already has`, 'use another name', part);
    return false;
  }
  const problem = ifnameMessage(name, context);
  if (problem) report(ctx, path, problem.message, problem.hint, part);
  return problem === undefined;
}
