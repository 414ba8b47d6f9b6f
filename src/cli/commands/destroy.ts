import { destroyLab, planDestroy } from '../../engine.js';
import { VerificationError } from '../../errors.js';
import { planToJson, renderPlan } from '../../plan/render.js';
import { listRecords } from '../../state/record.js';
import { checkLabName, engineDeps, interruptible, isFile, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';
import { errorJson, rerunCommand, unfinished } from '../report.js';

export interface DestroyOptions extends CommonOptions {
  json?: boolean;
  output?: string;
  /** Show what destroy would remove; change nothing. */
  dryRun?: boolean;
}

/** A name that is not applied is not an error, but likely a typo: say which labs are. */
function notApplied(lab: string, applied: readonly string[]): string {
  const others = applied.length === 0 ? 'no lab is applied on this machine' : `applied: ${applied.join(', ')}`;
  return `Lab ${lab} is not applied: nothing to destroy (${others}; see netlab ls).`;
}

export async function destroyCommand(target: string, options: DestroyOptions, out: Output): Promise<number> {
  const spec = target === '-' || (await isFile(target)) ? (await loadSpec(target, out, options)).spec : undefined;
  const lab = spec?.name ?? checkLabName(target);
  requireRoot();
  const format = outputFormat(options);
  const deps = engineDeps(options, out);
  const applied = (await listRecords(deps.stateDir)).map((r) => r.lab);
  // Only these nodes go (the links to them with them); the record keeps the rest.
  const what = deps.nodes ? `node(s) ${deps.nodes.join(', ')} of lab ${lab}` : `lab ${lab}`;
  const subject = `${what[0]!.toUpperCase()}${what.slice(1)}`;
  if (options.dryRun) {
    const { plan } = await planDestroy(lab, spec, deps);
    for (const conflict of plan.conflicts) out.err(`left alone: ${conflict.reason}`);
    if (format !== 'text') printDocument(out, format, { lab, dry_run: true, plan: planToJson(plan) });
    else if (plan.changes.length === 0) out.out(`${subject}: nothing to destroy.`);
    else out.out(`${renderPlan(plan)}Dry run: destroy would remove the above from ${what}; nothing was changed.`);
    return 0;
  }
  const started = performance.now();
  const interrupt = interruptible();
  const result = await destroyLab(lab, spec, { ...deps, signal: interrupt.signal })
    .catch((e: unknown) => {
      // What is left, as data for tools; stderr tells it as text too.
      if (format !== 'text' && e instanceof VerificationError) printDocument(out, format, { lab, applied: true, ok: false, error: errorJson(e) });
      throw e;
    })
    .finally(interrupt.dispose);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  for (const conflict of result.plan.conflicts) out.err(`left alone: ${conflict.reason}`);
  const found = result.execution !== undefined || applied.includes(lab);
  const rerun = rerunCommand('destroy', deps.nodes, target);
  if (format !== 'text') {
    const stopped = result.execution && unfinished(result.execution, rerun, out);
    printDocument(out, format, {
      lab,
      applied: found,
      ok: stopped === undefined,
      removed: result.execution?.done.length ?? 0,
      seconds: Number(seconds),
      ...(found ? {} : { applied_labs: applied }),
      plan: planToJson(result.plan),
    });
    return stopped ?? 0;
  }
  if (!result.execution) {
    out.out(found ? `${subject}: nothing to destroy (${seconds} s).` : notApplied(lab, applied));
    return 0;
  }
  out.out(renderPlan(result.plan));
  const stopped = unfinished(result.execution, rerun, out);
  if (stopped !== undefined) return stopped;
  out.out(deps.nodes ? `Destroyed ${what} in ${seconds} s; the rest of the lab is as it was.` : `Destroyed lab ${lab} in ${seconds} s: nothing of it is left.`);
  return 0;
}
