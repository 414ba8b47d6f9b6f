import { planLab } from '../../engine.js';
import { planToJson } from '../../plan/render.js';
import { engineDeps, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import { UserError } from '../../errors.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';
import { leftOutJson, renderLabPlan } from '../report.js';
import { savedPlan, writeSavedPlan } from '../saved-plan.js';

export interface PlanOptions extends CommonOptions {
  json?: boolean;
  output?: string;
  detailedExitcode?: boolean;
  /** Save the plan to this file, for `netlab apply FILE` to apply exactly it. */
  out?: string;
}

export async function planCommand(file: string, options: PlanOptions, out: Output): Promise<number> {
  if (options.out && file === '-') throw new UserError('plan --out needs a lab file: a saved plan is checked against its file, and stdin has none');
  // The text the plan is made from, read once with the spec; a change after this is caught when the plan is applied.
  const { spec, text: content } = await loadSpec(file, out, options);
  requireRoot();
  const deps = engineDeps(options, out);
  const planned = await planLab(spec, deps);
  const { plan } = planned;
  const format = outputFormat(options);
  if (format === 'text') out.out(renderLabPlan(planned));
  else printDocument(out, format, { ...(planToJson(plan) as object), ...leftOutJson(planned) });
  if (plan.conflicts.length > 0) {
    if (options.out) out.err(`error: a plan with conflicts cannot be applied; nothing was saved to ${options.out}.`);
    return 1;
  }
  if (options.out) {
    await writeSavedPlan(options.out, savedPlan(planned, file, content, deps.nodes));
    const saved = `Saved the plan to ${options.out}: \`netlab apply ${options.out}\` applies exactly it, and refuses if the kernel or the file changes first.`;
    if (format !== 'text') out.err(saved);
    else out.out(saved);
  }
  return options.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
}
