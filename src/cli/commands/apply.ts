import { resolve } from 'node:path';
import { applyLab } from '../../engine.js';
import { countActions, renderPlan } from '../../plan/render.js';
import { engineDeps, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';
import { renderFailures } from '../report.js';

export async function applyCommand(file: string, options: CommonOptions, out: Output): Promise<number> {
  const { spec } = await loadSpec(file, out);
  requireRoot();
  const started = performance.now();
  const result = await applyLab(spec, resolve(file), engineDeps(options, out));
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (!result.execution) {
    out.out(`Lab ${spec.name}: no changes, nothing written. The kernel matches the file (${seconds} s).`);
    return 0;
  }
  out.out(renderPlan(result.plan));
  if (result.execution.failed.length > 0) {
    out.err(renderFailures(result.execution, `netlab apply ${file}`));
    return 1;
  }
  const n = countActions(result.plan.changes);
  out.out(
    `Applied lab ${spec.name}: ${n.create} created, ${n.update} changed, ${n.delete} deleted in ${result.rounds} round(s), ${seconds} s; verified against the kernel.`,
  );
  return 0;
}
