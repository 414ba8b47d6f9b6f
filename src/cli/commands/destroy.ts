import { destroyLab } from '../../engine.js';
import { renderPlan } from '../../plan/render.js';
import { checkLabName, engineDeps, interruptible, isFile, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';
import { unfinished } from '../report.js';

export async function destroyCommand(target: string, options: CommonOptions, out: Output): Promise<number> {
  const spec = (await isFile(target)) ? (await loadSpec(target, out)).spec : undefined;
  const lab = spec?.name ?? checkLabName(target);
  requireRoot();
  const started = performance.now();
  const interrupt = interruptible();
  const result = await destroyLab(lab, spec, { ...engineDeps(options, out), signal: interrupt.signal }).finally(interrupt.dispose);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  for (const conflict of result.plan.conflicts) out.err(`left alone: ${conflict.reason}`);
  if (!result.execution) {
    out.out(`Lab ${lab}: nothing to destroy (${seconds} s).`);
    return 0;
  }
  out.out(renderPlan(result.plan));
  const stopped = unfinished(result.execution, `netlab destroy ${target}`, out);
  if (stopped !== undefined) return stopped;
  out.out(`Destroyed lab ${lab} in ${seconds} s: nothing of it is left.`);
  return 0;
}
