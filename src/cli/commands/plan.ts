import { planLab } from '../../engine.js';
import { planToJson, renderPlan } from '../../plan/render.js';
import { engineDeps, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';

export interface PlanOptions extends CommonOptions {
  json?: boolean;
  detailedExitcode?: boolean;
}

export async function planCommand(file: string, options: PlanOptions, out: Output): Promise<number> {
  const { spec } = await loadSpec(file, out);
  requireRoot();
  const { plan } = await planLab(spec, engineDeps(options, out));
  out.out(options.json ? JSON.stringify(planToJson(plan), null, 2) : renderPlan(plan));
  if (plan.conflicts.length > 0) return 1;
  return options.detailedExitcode && plan.changes.length > 0 ? 2 : 0;
}
