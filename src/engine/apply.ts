// apply: plan under the lock, record what the run may touch, run the changes, verify the kernel
// against the file, and wait until the new links pass traffic.
import { randomInt } from 'node:crypto';
import type { LabSpec } from '../config/spec.js';
import { ConflictError, VerificationError } from '../errors.js';
import { checkAttachments } from '../kernel/attach.js';
import { withContainerPids } from '../kernel/container.js';
import { execute, type ExecuteResult } from '../kernel/execute.js';
import { readLab, type NodeToRead } from '../kernel/read.js';
import { requireIproute2 } from '../kernel/tools.js';
import { resolveLab } from '../model/resolve.js';
import type { LabState } from '../model/types.js';
import { linkKey, waitingForCarrier } from '../plan/carrier.js';
import type { Change, Plan } from '../plan/change.js';
import { schedule, settledByOwnLastBatch, sysctlsSettledByOwnLastBatch } from '../plan/graph.js';
import { lacksHeldSysctls, recordAfterRun, recordBeforeRun } from '../state/bookkeeping.js';
import { recordWithout } from '../state/kind-change.js';
import { readRecord, recordDir, writeRecord, type LabRecord } from '../state/record.js';
import { makeKeys, pruneKeys } from '../state/wireguard-keys.js';
import type { WireguardState } from '../model/wireguard.js';
import { recordAfterTargetedRun } from '../state/targeted.js';
import { executeDeps, readDeps, type EngineDeps } from './deps.js';
import { knownRecord } from './known-record.js';
import { lockNames, locked } from './locks.js';
import { planFor, type RunSoFar } from './plan-for.js';
import { targetsOf } from './read-targets.js';
import { joined, retirementOf } from './retirement.js';

export interface ApplyResult {
  plan: Plan;
  execution?: ExecuteResult;
  rounds: number;
}

/** How long apply waits for new veths to pass traffic: the kernel's link watcher takes up to a second, more under load. */
const CARRIER_WAIT_MS = 5_000;

/**
 * After a run, the kernel must match the file; anything that still differs is named. Then apply
 * returns once the lab passes traffic: a veth carries packets only after the kernel's link watcher
 * has seen its carrier, which can lag a second or more behind `ip link set up`.
 */
async function verify(file: LabState, record: LabRecord | undefined, deps: EngineDeps, run: RunSoFar): Promise<LabState> {
  const { plan, actual, desired } = await planFor(file, record, deps, { after: run });
  if (plan.changes.length > 0 || plan.conflicts.length > 0) throw new VerificationError(plan, 'apply');
  const deadline = Date.now() + CARRIER_WAIT_MS;
  const made = madeLinks(run.changes);
  let waiting = new Set(waitingForCarrier(desired, actual, made));
  // The link watcher usually catches up within milliseconds: look again soon, then less often.
  for (let pause = 10; waiting.size > 0 && Date.now() < deadline; pause = 50) {
    await new Promise((r) => setTimeout(r, pause));
    // Only the nodes still waiting are read again: their links' state is all that is asked.
    const again = await readLab(desired.lab, targetsOf(desired, record).filter((t) => waiting.has(t.node)), readDeps(deps, undefined, { pairsProven: true }));
    for (const [name, node] of again.nodes) actual.nodes.set(name, node);
    waiting = new Set(waitingForCarrier(desired, actual, made));
  }
  return actual;
}

/** The links a run made, both ends of each veth pair, as waitingForCarrier keys them. */
function madeLinks(changes: readonly Change[]): Set<string> {
  return new Set(changes.flatMap((c) => (c.kind === 'veth' ? [linkKey(c.node, c.name), linkKey(c.peer.node, c.peer.name)] : c.kind === 'bridge' ? [linkKey(c.node, c.name)] : [])));
}

/** The keys verify reads in each namespace whose sysctls settle in their own last batch. */
function sysctlReadBackFor(settled: ReadonlyMap<string, number>, targets: readonly NodeToRead[]): Map<string, { round: number; keys: string[] }> {
  const byNetns = new Map<string, { round: number; keys: string[] }>();
  for (const t of targets) {
    const round = t.netns === null ? undefined : settled.get(t.netns);
    if (round !== undefined && t.sysctlKeys.length > 0) byNetns.set(t.netns!, { round, keys: t.sysctlKeys });
  }
  return byNetns;
}

function wireguardOf(changes: readonly Change[]): Array<{ node: string; wireguard: WireguardState }> {
  return changes.flatMap((c) => (c.kind === 'wireguard' ? [{ node: c.node, wireguard: c.wireguard }] : []));
}

/** Each new namespace gets an id of its own in the root namespace, recorded before it is made. */
function withNamespaceIds(plan: Plan): Plan {
  const changes = plan.changes.map((c) => (c.kind === 'netns' && c.action === 'create' ? { ...c, nsid: randomInt(1 << 16, 2 ** 31 - 1) } : c));
  return { ...plan, changes };
}

export async function applyLab(spec: LabSpec, file: string, deps: EngineDeps): Promise<ApplyResult> {
  const desired = resolveLab(await withContainerPids(spec, deps.runner));
  const names = lockNames(spec.name, desired, await readRecord(deps.stateDir, spec.name));
  return locked(names, deps, () => applyLocked(spec, desired, file, deps));
}

async function applyLocked(spec: LabSpec, desired: LabState, file: string, deps: EngineDeps): Promise<ApplyResult> {
  await requireIproute2(deps.runner);
  await checkAttachments(desired);
  const found = await knownRecord(spec.name, deps, { desired, scanIfMissing: false });
  const retirement = await retirementOf(desired, found, deps);
  let record = found;
  let retired: ExecuteResult | undefined;
  let retiredRounds = 0;
  if (retirement.plan) {
    const planned = await planFor(desired, found, deps);
    const ahead = joined(retirement.plan, planned.plan);
    deps.onPlan?.({ ...planned, plan: ahead });
    if (ahead.conflicts.length > 0) throw new ConflictError(ahead);
    const steps = schedule(retirement.plan.changes);
    retiredRounds = steps.rounds.length;
    retired = await execute(steps, executeDeps(deps, spec.name));
    if (retired.failed.length > 0 || retired.notStarted.length > 0) return { plan: retirement.plan, execution: retired, rounds: steps.rounds.length };
    // Gone from the kernel, so from the record: the new kind is planned from nothing.
    record = recordWithout(found!, retirement.nodes);
    await writeRecord(deps.stateDir, record);
  }
  // The plan was told before the old kinds were taken away.
  const result = await applyPlanned(spec, desired, record, file, retired ? { ...deps, onPlan: undefined } : deps);
  if (!retired) return result;
  const execution = result.execution ? concatenated(retired, result.execution) : retired;
  return { plan: joined(retirement.plan, result.plan), execution, rounds: retiredRounds + result.rounds };
}

function concatenated(a: ExecuteResult, b: ExecuteResult): ExecuteResult {
  return {
    done: [...a.done, ...b.done],
    failed: [...a.failed, ...b.failed],
    skipped: [...a.skipped, ...b.skipped],
    notStarted: [...a.notStarted, ...b.notStarted],
    readBack: b.readBack,
    sysctlReadBack: b.sysctlReadBack,
  };
}

async function applyPlanned(spec: LabSpec, desired: LabState, known: LabRecord | undefined, file: string, deps: EngineDeps): Promise<ApplyResult> {
  const planned = await planFor(desired, known, deps);
  const { record, actual, selection, otherLabs } = planned;
  deps.onPlan?.(planned);
  if (planned.plan.conflicts.length > 0) throw new ConflictError(planned.plan);
  if (planned.plan.changes.length === 0) {
    // Nothing to change, but a sysctl another lab set already is now this lab's too: on record.
    if (!selection && lacksHeldSysctls(record, planned.desired)) {
      await writeRecord(deps.stateDir, recordAfterRun(recordBeforeRun(record, planned.desired, actual, [], file, otherLabs), planned.desired, actual));
    }
    return { plan: planned.plan, rounds: 0 };
  }
  const plan = withNamespaceIds(planned.plan);

  // Written first: whatever the run leaves behind, the record knows everything it may touch.
  const during = recordBeforeRun(record, planned.desired, actual, plan.changes, file, otherLabs);
  await writeRecord(deps.stateDir, during);
  // The WireGuard keys the run sets, made now that the plan is final: plan itself writes nothing.
  await makeKeys(recordDir(deps.stateDir, spec.name), wireguardOf(plan.changes));
  const steps = schedule(plan.changes);
  const readBack = settledByOwnLastBatch(steps);
  const sysctlReadBack = sysctlReadBackFor(sysctlsSettledByOwnLastBatch(steps), targetsOf(planned.desired, during));
  const execution = await execute(steps, executeDeps(deps, spec.name, { readBack, sysctlReadBack }));
  if (execution.failed.length > 0 || execution.notStarted.length > 0) return { plan, execution, rounds: steps.rounds.length };

  const after = await verify(desired, during, deps, { before: actual, changes: plan.changes, readBack: execution.readBack, sysctlReadBack: execution.sysctlReadBack });
  const settled = recordAfterRun(during, planned.desired, after);
  await writeRecord(deps.stateDir, selection ? recordAfterTargetedRun(during, settled, selection) : settled, 'the lab is applied, but its record still lists what the run might have made');
  if (!selection) await pruneKeys(recordDir(deps.stateDir, spec.name), planned.desired);
  return { plan, execution, rounds: steps.rounds.length };
}
