// destroy: what the record (or the kernel's marks) and the file name, read and taken away; then
// read again to prove nothing of the lab is left, and the record goes.
import type { LabSpec } from '../config/spec.js';
import { VerificationError } from '../errors.js';
import { execute, type ExecuteResult } from '../kernel/execute.js';
import { resolveLab } from '../model/resolve.js';
import type { LabState } from '../model/types.js';
import type { Plan } from '../plan/change.js';
import { schedule } from '../plan/graph.js';
import { recordedNodes } from '../state/bookkeeping.js';
import { readRecord, removeRecord, writeRecord, type LabRecord } from '../state/record.js';
import { recordLeftAfterDestroy } from '../state/targeted.js';
import { executeDeps, type EngineDeps, type LabPlan } from './deps.js';
import { knownRecord } from './known-record.js';
import { lockNames, locked } from './locks.js';
import { planFor } from './plan-for.js';

export interface DestroyResult {
  plan: Plan;
  execution?: ExecuteResult;
}

export async function destroyLab(lab: string, spec: LabSpec | undefined, deps: EngineDeps): Promise<DestroyResult> {
  const record = await readRecord(deps.stateDir, lab);
  // Without a good record, what the marks prove may be in the root namespace too.
  const names = record ? lockNames(lab, spec ? resolveLab(spec) : undefined, record) : [`lab-${lab}`, 'root-namespace'];
  return locked(names, deps, () => destroyLocked(lab, spec, deps));
}

/** What destroy looks at: the record (or the kernel's marks), and besides it the file's namespaces. */
async function destroyScope(lab: string, spec: LabSpec | undefined, deps: EngineDeps): Promise<{ record?: LabRecord; extra: LabRecord['nodes'] }> {
  const fromFile = spec ? resolveLab(spec) : undefined;
  const record = await knownRecord(lab, deps, { desired: fromFile, scanIfMissing: true });
  return { record, extra: fromFile ? recordedNodes(fromFile) : {} };
}

/** destroy --dry-run: what destroy would remove, read and planned, with nothing changed. */
export async function planDestroy(lab: string, spec: LabSpec | undefined, deps: EngineDeps): Promise<LabPlan> {
  const { record, extra } = await destroyScope(lab, spec, deps);
  return planFor({ lab, nodes: new Map() }, record, deps, { extra, destroying: true });
}

/** The record once destroy is done: gone, or with --node, without those nodes. */
async function forgetDestroyed(lab: string, record: LabRecord | undefined, deps: EngineDeps): Promise<void> {
  const rest = deps.nodes && record ? recordLeftAfterDestroy(record, new Set(deps.nodes)) : undefined;
  if (rest) await writeRecord(deps.stateDir, rest);
  else await removeRecord(deps.stateDir, lab);
}

async function destroyLocked(lab: string, spec: LabSpec | undefined, deps: EngineDeps): Promise<DestroyResult> {
  const { record, extra } = await destroyScope(lab, spec, deps);
  const empty: LabState = { lab, nodes: new Map() };
  const { plan } = await planFor(empty, record, deps, { extra, destroying: true });
  if (plan.changes.length === 0) {
    await forgetDestroyed(lab, record, deps);
    return { plan };
  }
  const execution = await execute(schedule(plan.changes), executeDeps(deps, lab));
  if (execution.failed.length > 0 || execution.notStarted.length > 0) return { plan, execution };
  const { plan: left } = await planFor(empty, record, deps, { extra, destroying: true });
  if (left.changes.length > 0) throw new VerificationError(left, 'destroy');
  await forgetDestroyed(lab, record, deps);
  return { plan, execution };
}
