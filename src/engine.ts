// The flow of plan, apply and destroy: read → diff → schedule → execute → verify. The engine is
// what ties the pure pieces to the kernel, and this is its front for the CLI, which formats what
// it returns and what it throws (ConflictError, VerificationError: data, not text). Its jobs are
// one file each under engine/: planFor, apply, destroy, the record it trusts, its locks.
import type { LabSpec } from './config/spec.js';
import { withContainerPids } from './kernel/container.js';
import { readLab } from './kernel/read.js';
import { requireTools, toolsFor } from './kernel/tools.js';
import { resolveLab } from './model/resolve.js';
import type { LabState } from './model/types.js';
import { readRecord } from './state/record.js';
import { readDeps, type EngineDeps, type LabPlan } from './engine/deps.js';
import { knownRecord } from './engine/known-record.js';
import { planFor } from './engine/plan-for.js';
import { targetsOf } from './engine/read-targets.js';
import { joined, retirementOf } from './engine/retirement.js';

export type { EngineDeps, LabPlan } from './engine/deps.js';
export { applyLab, type ApplyResult } from './engine/apply.js';
export { destroyLab, planDestroy, type DestroyResult } from './engine/destroy.js';

export async function planLab(spec: LabSpec, deps: EngineDeps): Promise<LabPlan> {
  const desired = resolveLab(await withContainerPids(spec, deps.runner));
  const record = await knownRecord(spec.name, deps, { desired, scanIfMissing: false });
  const retirement = await retirementOf(desired, record, deps);
  const planned = await planFor(desired, record, deps);
  return { ...planned, plan: joined(retirement.plan, planned.plan) };
}

/** The live state of an applied lab, from its record alone. */
export async function readAppliedLab(lab: string, deps: EngineDeps): Promise<LabState | undefined> {
  const record = await readRecord(deps.stateDir, lab);
  if (!record) return undefined;
  const targets = targetsOf({ lab, nodes: new Map() }, record);
  await requireTools(toolsFor(targets, { linkLocal: false }));
  return readLab(lab, targets, readDeps(deps, lab));
}
