import { resolve } from 'node:path';
import { STDIN_NAME } from '../../config/load.js';
import type { LabSpec } from '../../config/spec.js';
import { applyLab, type LabPlan } from '../../engine.js';
import { UserError } from '../../errors.js';
import { countActions } from '../../plan/render.js';
import type { SavedPlan } from '../../plan/saved.js';
import { engineDeps, interruptible, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';
import { renderLabPlan, rerunCommand, unfinished } from '../report.js';
import { checkFileUnchanged, checkStillCurrent, readSavedPlan } from '../saved-plan.js';
import { ApplyWatch } from '../apply-watch.js';

export interface ApplyOptions extends CommonOptions {
  /** Stream JSON lines (one per change done/failed, then a summary) on stdout instead of the plan. */
  json?: boolean;
  /** -o json: the same as --json. */
  output?: string;
  /** The closing sentence alone: no plan before the run. */
  quiet?: boolean;
}

interface Target {
  file: string;
  spec: LabSpec;
  saved?: SavedPlan;
  nodes?: readonly string[];
}

/** A lab file (or - for stdin), or a saved plan (`plan --out`) whose file must be as it was planned. */
async function targetOf(arg: string, options: ApplyOptions, out: Output): Promise<Target> {
  const saved = arg === '-' ? undefined : await readSavedPlan(arg);
  if (!saved) return { ...(await loadSpec(arg, out, options)), nodes: options.node?.length ? options.node : undefined };
  if (options.node?.length) throw new UserError(`${arg} is a saved plan and applies the nodes it was made for — give no --node`);
  await checkFileUnchanged(saved, arg);
  return { ...(await loadSpec(saved.file, out, options)), saved, nodes: saved.nodes };
}

export async function applyCommand(arg: string, options: ApplyOptions, out: Output): Promise<number> {
  if (options.output === 'json') options = { ...options, json: true };
  const { file, spec, saved, nodes } = await targetOf(arg, options, out);
  requireRoot();
  const started = performance.now();
  const watch = new ApplyWatch(spec.name, options, out);
  const interrupt = interruptible();
  // The plan is told before the run: under the lock, once read, before anything changes.
  const onPlan = (planned: LabPlan) => {
    if (saved) checkStillCurrent(saved, arg, planned);
    const { changes, conflicts } = planned.plan;
    if (!options.json && !options.quiet && changes.length > 0 && conflicts.length === 0) out.out(renderLabPlan(planned));
  };
  const deps = { ...engineDeps(options, out), nodes, onPlan, signal: interrupt.signal };
  const result = await applyLab(spec, file === STDIN_NAME ? STDIN_NAME : resolve(file), watch.deps(deps)).then(
    (r) => (watch.stop(), interrupt.dispose(), r),
    (e: unknown) => {
      watch.stop();
      interrupt.dispose();
      watch.thrown(e);
      throw e;
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const rerun = rerunCommand('apply', nodes, file);
  if (options.json) return watch.summary(result, Number(seconds), rerun);
  if (!result.execution) {
    out.out(`Lab ${spec.name}: no changes, nothing written. The kernel matches the file (${seconds} s).`);
    return 0;
  }
  const stopped = unfinished(result.execution, rerun, out);
  if (stopped !== undefined) return stopped;
  const n = countActions(result.plan.changes);
  out.out(
    `Applied lab ${spec.name}: ${n.create} created, ${n.update} changed, ${n.delete} deleted in ${result.rounds} round(s), ${seconds} s; verified against the kernel.`,
  );
  return 0;
}
