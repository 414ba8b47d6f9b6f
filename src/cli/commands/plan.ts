import { planLab } from '../../engine.js';
import { planToJson, renderPlan } from '../../plan/render.js';
import { engineDeps, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';

export interface PlanOptions extends CommonOptions {
  json?: boolean;
  output?: string;
  detailedExitcode?: boolean;
}

export async function planCommand(file: string, options: PlanOptions, out: Output): Promise<number> {
  const { spec } = await loadSpec(file, out, options);
  requireRoot();
  const { plan } = await planLab(spec, engineDeps(options, out));
  const format = outputFormat(options);
  if (format === 'text') out.out(renderPlan(plan));
  else printDocument(out, format, planToJson(plan) as object);
  if (plan.conflicts.length > 0) return 1;
  return options.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
}
