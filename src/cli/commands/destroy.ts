import { destroyLab, planDestroy } from '../../engine.js';
import { renderPlan } from '../../plan/render.js';
import { checkLabName, engineDeps, interruptible, isFile, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';
import { unfinished } from '../report.js';

export interface DestroyOptions extends CommonOptions {
  /** Show what destroy would remove; change nothing. */
  dryRun?: boolean;
}

export async function destroyCommand(target: string, options: DestroyOptions, out: Output): Promise<number> {
  const spec = (await isFile(target)) ? (await loadSpec(target, out)).spec : undefined;
  const lab = spec?.name ?? checkLabName(target);
  requireRoot();
  const deps = engineDeps(options, out);
  // Only these nodes go (the links to them with them); the record keeps the rest.
  const what = deps.nodes ? `node(s) ${deps.nodes.join(', ')} of lab ${lab}` : `lab ${lab}`;
  const subject = `${what[0]!.toUpperCase()}${what.slice(1)}`;
  if (options.dryRun) {
    const { plan } = await planDestroy(lab, spec, deps);
    for (const conflict of plan.conflicts) out.err(`left alone: ${conflict.reason}`);
    if (plan.changes.length === 0) out.out(`${subject}: nothing to destroy.`);
    else out.out(`${renderPlan(plan)}Dry run: destroy would remove the above from ${what}; nothing was changed.`);
    return 0;
  }
  const started = performance.now();
  const interrupt = interruptible();
  const result = await destroyLab(lab, spec, { ...deps, signal: interrupt.signal }).finally(interrupt.dispose);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  for (const conflict of result.plan.conflicts) out.err(`left alone: ${conflict.reason}`);
  if (!result.execution) {
    out.out(`${subject}: nothing to destroy (${seconds} s).`);
    return 0;
  }
  out.out(renderPlan(result.plan));
  const nodeArgs = (deps.nodes ?? []).map((n) => `--node ${n} `).join('');
  const stopped = unfinished(result.execution, `netlab destroy ${nodeArgs}${target}`, out);
  if (stopped !== undefined) return stopped;
  out.out(deps.nodes ? `Destroyed ${what} in ${seconds} s; the rest of the lab is as it was.` : `Destroyed lab ${lab} in ${seconds} s: nothing of it is left.`);
  return 0;
}
