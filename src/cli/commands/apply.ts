import { resolve } from 'node:path';
import { STDIN_NAME } from '../../config/load.js';
import { applyLab } from '../../engine.js';
import { countActions, renderPlan } from '../../plan/render.js';
import { engineDeps, interruptible, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';
import { unfinished } from '../report.js';
import { ApplyWatch } from '../apply-watch.js';

export interface ApplyOptions extends CommonOptions {
  /** Stream JSON lines (one per change done/failed, then a summary) on stdout instead of the plan. */
  json?: boolean;
  /** -o json: the same as --json. */
  output?: string;
}

export async function applyCommand(file: string, options: ApplyOptions, out: Output): Promise<number> {
  const { spec } = await loadSpec(file, out, options);
  if (options.output === 'json') options = { ...options, json: true };
  requireRoot();
  const started = performance.now();
  const watch = new ApplyWatch(spec.name, options, out);
  const interrupt = interruptible();
  const result = await applyLab(spec, file === '-' ? STDIN_NAME : resolve(file), watch.deps({ ...engineDeps(options, out), signal: interrupt.signal })).then(
    (r) => (watch.stop(), interrupt.dispose(), r),
    (e: unknown) => {
      watch.stop();
      interrupt.dispose();
      watch.thrown(e);
      throw e;
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (options.json) return watch.summary(result, Number(seconds), `netlab apply ${file}`);
  if (!result.execution) {
    out.out(`Lab ${spec.name}: no changes, nothing written. The kernel matches the file (${seconds} s).`);
    return 0;
  }
  out.out(renderPlan(result.plan));
  const stopped = unfinished(result.execution, `netlab apply ${file}`, out);
  if (stopped !== undefined) return stopped;
  const n = countActions(result.plan.changes);
  out.out(
    `Applied lab ${spec.name}: ${n.create} created, ${n.update} changed, ${n.delete} deleted in ${result.rounds} round(s), ${seconds} s; verified against the kernel.`,
  );
  return 0;
}
