// The flow of plan, apply and destroy: read → diff → schedule → execute → verify. The only
// module that ties the pure pieces to the kernel; the CLI formats what it returns.
import { randomInt } from 'node:crypto';
import type { LabSpec } from './config/spec.js';
import { ConflictError, VerificationError } from './errors.js';
import { execute, type ExecuteLog, type ExecuteResult } from './kernel/execute.js';
import { namespaceIds, readLabMarks } from './kernel/marks.js';
import { readLab, type NodeToRead } from './kernel/read.js';
import type { Runner } from './kernel/runner.js';
import { kernelHasIpv6, requireIproute2, requireTools, type Tool } from './kernel/tools.js';
import { nftTableName } from './model/nft.js';
import { resolveLab } from './model/resolve.js';
import { interfaceKeysResetBy } from './model/forwarding.js';
import { ownsWholeNamespace, type LabState, type NodeState } from './model/types.js';
import type { OtherLabsClaims } from './plan/other-labs.js';
import type { Change, Plan } from './plan/change.js';
import { diff } from './plan/diff.js';
import { linkKey, waitingForCarrier } from './plan/carrier.js';
import { schedule, settledByOwnLastBatch, sysctlsSettledByOwnLastBatch } from './plan/graph.js';
import { renderPlan } from './plan/render.js';
import { narrowState, selectNodes, type Selection } from './plan/target.js';
import { checkAttachments } from './kernel/attach.js';
import { withContainerPids } from './kernel/container.js';
import {
  creatingNodes,
  interfaceSysctls,
  lacksHeldSysctls,
  nftFingerprints,
  nodesFromMarks,
  otherLabsClaims,
  partialOwnership,
  recordAfterRun,
  recordBeforeRun,
  recordedNodes,
  sysctlOriginals,
} from './state/bookkeeping.js';
import { kindChanges, recordOf, recordWithout } from './state/kind-change.js';
import { acquireAll } from './state/lock.js';
import { listRecords, loadRecord, mergeNodes, readRecord, recordDir, removeRecord, writeRecord, type LabRecord, type RecordedNode } from './state/record.js';
import { recordAfterTargetedRun, recordLeftAfterDestroy } from './state/targeted.js';

export interface EngineDeps {
  runner: Runner;
  /** How long apply and destroy wait for another run's lock before giving up. */
  lockWaitMs?: number;
  onLockWait?: (message: string) => void;
  /** Ctrl-C: finish the batches under way, start no new one. */
  signal?: AbortSignal;
  /** Processes at once; namespaces are independent, the machine's cores are not. */
  concurrency: number;
  stateDir: string;
  log?: ExecuteLog;
  /** One line the user should read that does not stop the run (a record that is not trusted). */
  onWarning?: (message: string) => void;
  /** --node: plan, apply or destroy only these nodes and the links between them (plan/target.ts). */
  nodes?: readonly string[];
  /**
   * apply: told the plan once it is read, under the lock and before anything is written or run.
   * Throwing stops the run with nothing changed (a saved plan that is stale).
   */
  onPlan?: (plan: LabPlan) => void;
}

export interface LabPlan {
  /** What the plan is for: the file's state, narrowed to the selection with --node. */
  desired: LabState;
  actual: LabState;
  plan: Plan;
  record?: LabRecord;
  /** With --node: what was selected and what left out. */
  selection?: Selection;
  /** Per node, what other labs hold in its namespace. */
  otherLabs: Map<string, OtherLabsClaims>;
}

/**
 * A forwarding switch the lab is about to set for the first time where it does not own the
 * namespace: the interfaces' own values are read first, to be recorded (model/forwarding.ts).
 */
function interfaceTemplates(state: NodeState, recorded: RecordedNode | undefined): string[] | undefined {
  if (ownsWholeNamespace(state.kind)) return undefined;
  const templates = [...state.sysctls.keys()].filter((k) => recorded?.sysctls?.[k] === undefined).flatMap((k) => interfaceKeysResetBy(k) ?? []);
  return templates.length > 0 ? [...new Set(templates)] : undefined;
}

function targetsOf(desired: LabState, record: LabRecord | undefined): NodeToRead[] {
  const table = nftTableName(desired.lab);
  const targets = new Map<string, NodeToRead>();
  for (const [node, n] of Object.entries(record?.nodes ?? {})) {
    targets.set(node, { node, kind: n.kind, netns: n.netns, source: n.source, sysctlKeys: Object.keys(n.sysctls ?? {}), nftTable: n.nft ? table : undefined });
  }
  for (const [node, state] of desired.nodes) {
    const recorded = record?.nodes[node];
    const sysctlKeys = [...new Set([...state.sysctls.keys(), ...Object.keys(recorded?.sysctls ?? {})])];
    const nftTable = state.nft || recorded?.nft ? table : undefined;
    const interfaceSysctls = interfaceTemplates(state, recorded);
    targets.set(node, { node, kind: state.kind, netns: state.netns, source: state.source, sysctlKeys, nftTable, ...(interfaceSysctls ? { interfaceSysctls } : {}) });
  }
  return [...targets.values()].sort((a, b) => a.node.localeCompare(b.node));
}

function toolsFor(targets: readonly NodeToRead[], desired?: LabState): Tool[] {
  // xargs starts the per-namespace runs (kernel/fanout.ts).
  const tools: Tool[] = ['ip', 'nsenter', 'xargs'];
  // New links with link-local IPv6 get duplicate address detection off by sysctl (plan/dad.ts).
  const linkLocal = [...(desired?.nodes.values() ?? [])].some((n) => [...n.links.values()].some((l) => l.linkLocal === true));
  if (linkLocal || targets.some((t) => t.sysctlKeys.length > 0)) tools.push('sysctl');
  if (targets.some((t) => t.nftTable)) tools.push('nft');
  return tools;
}

/**
 * What verify already knows after a run: the state before it, the changes made, and what the
 * namespaces' own last batches read back (kernel/execute.ts). A node no change reached is as it was.
 */
interface RunSoFar {
  before: LabState;
  changes: readonly Change[];
  readBack: ReadonlyMap<string, string>;
  sysctlReadBack: ReadonlyMap<string, string>;
}

/** Nodes the run cannot have changed: none of its changes is in them or reaches into them. */
function untouchedNodes(run: RunSoFar): Set<string> {
  // A deleted link or namespace takes veth ends elsewhere with it; which ones, only a read tells.
  if (run.changes.some((c) => c.action === 'delete' && (c.kind === 'link' || c.kind === 'netns'))) return new Set();
  const touched = new Set(run.changes.flatMap((c) => (c.kind === 'veth' ? [c.node, c.peer.node] : [c.node])));
  return new Set([...run.before.nodes.keys()].filter((n) => !touched.has(n)));
}

async function planFor(file: LabState, recordAsIs: LabRecord | undefined, deps: EngineDeps, extra?: LabRecord['nodes'], light = false, run?: RunSoFar): Promise<LabPlan> {
  // A node changing kind is planned as its new kind, as though its old one were gone (applyLab takes it away first).
  const changing = kindChanges(recordAsIs, file);
  const record = changing.length > 0 ? recordWithout(recordAsIs!, changing) : recordAsIs;
  const known = record ? { ...record, nodes: mergeNodes(extra ?? {}, record.nodes) } : extra ? { lab: file.lab, nodes: extra, updated: '' } : undefined;
  const untouched = run ? untouchedNodes(run) : new Set<string>();
  const selection = deps.nodes ? selectNodes(file, Object.keys(known?.nodes ?? {}), deps.nodes) : undefined;
  const desired = selection ? narrowState(file, selection) : file;
  const targets = targetsOf(desired, known).filter((t) => !untouched.has(t.node) && (!selection || selection.nodes.has(t.node)));
  for (const t of targets) if (changing.includes(t.node)) t.replacing = true;
  // Destroy: a namespace with the inode and id the record noted is the lab's; nothing to read.
  if (light) for (const t of targets) {
    const { inode, nsid } = record?.nodes[t.node] ?? {};
    if (inode && !desired.nodes.has(t.node)) t.recordedInode = { inode, lab: desired.lab, ...(nsid !== undefined ? { nsid } : {}) };
  }
  if (!(await kernelHasIpv6())) for (const node of desired.nodes.values()) for (const link of node.links.values()) delete link.linkLocal;
  await requireTools(toolsFor(targets, desired));
  const read = await readLab(desired.lab, targets, { ...deps, recordDir: recordDir(deps.stateDir, desired.lab), ipAnswers: run?.readBack, sysctlAnswers: run?.sysctlReadBack, pairsProven: run !== undefined });
  const actual = selection ? narrowState(read, selection) : read;
  for (const node of untouched) actual.nodes.set(node, run!.before.nodes.get(node)!);
  const otherLabs = otherLabsClaims(desired, known, await listRecords(deps.stateDir, { except: desired.lab }));
  const plan = diff(desired, actual, {
    recorded: await provenCreating(record, actual, deps.runner),
    known: new Set(Object.keys(record?.nodes ?? {})),
    nftFingerprints: nftFingerprints(record),
    partial: partialOwnership(record),
    sysctlOriginals: sysctlOriginals(record),
    interfaceSysctls: interfaceSysctls(record),
    otherLabs,
  });
  return { desired, actual, plan, record, selection, otherLabs };
}

/**
 * Unmarked namespaces a crashed run of this lab made: the root namespace gives each the id the
 * run recorded before making it. One made by hand under the same name has no such id.
 */
async function provenCreating(record: LabRecord | undefined, actual: LabState, runner: Runner): Promise<Set<string>> {
  const creating = creatingNodes(record);
  const unmarked = [...creating.keys()].filter((n) => actual.nodes.get(n)?.exists && actual.nodes.get(n)?.owner === undefined);
  if (unmarked.length === 0) return new Set();
  const ids = await namespaceIds(runner);
  return new Set(unmarked.filter((n) => ids.get(actual.nodes.get(n)!.netns!) === creating.get(n)));
}

/** The root namespace's node in the file, so that what the marks prove there is given its name. */
function hostNodeOf(desired: LabState | undefined): string {
  return [...(desired?.nodes.values() ?? [])].find((n) => n.kind === 'host')?.node ?? 'host';
}

/**
 * The lab's record; when it is bad (or, for destroy, missing), what the kernel's marks prove
 * instead, said in one line. A record that is not the lab's own is never acted on.
 */
async function knownRecord(lab: string, deps: EngineDeps, options: { desired?: LabState; scanIfMissing: boolean }): Promise<LabRecord | undefined> {
  const { record, problem, path } = await loadRecord(deps.stateDir, lab);
  if (record) return record;
  if (!problem && !options.scanIfMissing) return undefined;
  const host = hostNodeOf(options.desired);
  const nodes = nodesFromMarks(await readLabMarks(lab, deps), host);
  // What only the record knew: the host's sysctls from before the lab, addresses it added there.
  const lost = nodes[host] ? ' (the host sysctls it changed stay as they are: only the record knew their old values)' : '';
  if (problem) deps.onWarning?.(`record ${path} ${problem}; ignoring it and using the kernel's marks${lost}`);
  else if (Object.keys(nodes).length > 0) deps.onWarning?.(`record ${path} is missing; using the kernel's marks${lost}`);
  return Object.keys(nodes).length > 0 ? { lab, nodes, updated: '' } : undefined;
}

/** What taking away the old kind of nodes that change kind does: their part of a destroy. */
async function retirementOf(desired: LabState, record: LabRecord | undefined, deps: EngineDeps): Promise<{ nodes: string[]; plan?: Plan }> {
  const nodes = kindChanges(record, desired).filter((n) => !deps.nodes || deps.nodes.includes(n));
  if (nodes.length === 0) return { nodes };
  return { nodes, plan: (await planFor({ lab: desired.lab, nodes: new Map() }, recordOf(record!, nodes), { ...deps, nodes: undefined })).plan };
}

/** The old kind's removal, then the new kind's making: one plan, in the order apply runs them. */
function joined(first: Plan | undefined, then: Plan): Plan {
  if (!first) return then;
  return { lab: then.lab, changes: [...first.changes, ...then.changes], conflicts: [...first.conflicts, ...then.conflicts] };
}

export async function planLab(spec: LabSpec, deps: EngineDeps): Promise<LabPlan> {
  const desired = resolveLab(await withContainerPids(spec, deps.runner));
  const record = await knownRecord(spec.name, deps, { desired, scanIfMissing: false });
  const retirement = await retirementOf(desired, record, deps);
  const planned = await planFor(desired, record, deps);
  return { ...planned, plan: joined(retirement.plan, planned.plan) };
}

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
  const { plan, actual, desired } = await planFor(file, record, deps, undefined, false, run);
  if (plan.changes.length > 0 || plan.conflicts.length > 0) {
    throw new VerificationError(`after the run the kernel still differs from the file:\n${renderPlan(plan)}`);
  }
  const deadline = Date.now() + CARRIER_WAIT_MS;
  const made = madeLinks(run.changes);
  let waiting = new Set(waitingForCarrier(desired, actual, made));
  // The link watcher usually catches up within milliseconds: look again soon, then less often.
  for (let pause = 10; waiting.size > 0 && Date.now() < deadline; pause = 50) {
    await new Promise((r) => setTimeout(r, pause));
    // Only the nodes still waiting are read again: their links' state is all that is asked.
    const again = await readLab(desired.lab, targetsOf(desired, record).filter((t) => waiting.has(t.node)), { ...deps, pairsProven: true });
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

/** The locks a run takes: its lab's, and the root namespace's when it has a kind: host node. */
function lockNames(lab: string, desired: LabState | undefined, record: LabRecord | undefined): string[] {
  const kinds = [...(desired?.nodes.values() ?? [])].map((n) => n.kind).concat(Object.values(record?.nodes ?? {}).map((n) => n.kind));
  return kinds.includes('host') ? [`lab-${lab}`, 'root-namespace'] : [`lab-${lab}`];
}

async function locked<T>(names: string[], deps: EngineDeps, run: () => Promise<T>): Promise<T> {
  const lock = await acquireAll(deps.stateDir, names, { waitMs: deps.lockWaitMs ?? 60_000, onWait: deps.onLockWait });
  try {
    return await run();
  } finally {
    await lock.release();
  }
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
    if (ahead.conflicts.length > 0) throw new ConflictError(renderPlan({ ...ahead, changes: [] }));
    const steps = schedule(retirement.plan.changes);
    retiredRounds = steps.rounds.length;
    retired = await execute(steps, { ...deps, recordDir: recordDir(deps.stateDir, spec.name) });
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
  const { plan, record, actual, selection, otherLabs } = planned;
  deps.onPlan?.(planned);
  if (plan.conflicts.length > 0) throw new ConflictError(renderPlan({ ...plan, changes: [] }));
  if (plan.changes.length === 0) {
    // Nothing to change, but a sysctl another lab set already is now this lab's too: on record.
    if (!selection && lacksHeldSysctls(record, planned.desired)) {
      await writeRecord(deps.stateDir, recordAfterRun(recordBeforeRun(record, planned.desired, actual, [], file, otherLabs), planned.desired, actual));
    }
    return { plan, rounds: 0 };
  }
  // Each new namespace gets an id of its own in the root namespace, recorded before it is made.
  for (const c of plan.changes) if (c.kind === 'netns' && c.action === 'create') c.nsid = randomInt(1 << 16, 2 ** 31 - 1);

  // Written first: whatever the run leaves behind, the record knows everything it may touch.
  const during = recordBeforeRun(record, planned.desired, actual, plan.changes, file, otherLabs);
  await writeRecord(deps.stateDir, during);
  const steps = schedule(plan.changes);
  const readBack = settledByOwnLastBatch(steps);
  const sysctlReadBack = sysctlReadBackFor(sysctlsSettledByOwnLastBatch(steps), targetsOf(planned.desired, during));
  const execution = await execute(steps, { ...deps, recordDir: recordDir(deps.stateDir, spec.name), readBack, sysctlReadBack });
  if (execution.failed.length > 0 || execution.notStarted.length > 0) return { plan, execution, rounds: steps.rounds.length };

  const after = await verify(desired, during, deps, { before: actual, changes: plan.changes, readBack: execution.readBack, sysctlReadBack: execution.sysctlReadBack });
  const settled = recordAfterRun(during, planned.desired, after);
  await writeRecord(deps.stateDir, selection ? recordAfterTargetedRun(during, settled, selection) : settled, 'the lab is applied, but its record still lists what the run might have made');
  return { plan, execution, rounds: steps.rounds.length };
}

/** The live state of an applied lab, from its record alone. */
export async function readAppliedLab(lab: string, deps: EngineDeps): Promise<LabState | undefined> {
  const record = await readRecord(deps.stateDir, lab);
  if (!record) return undefined;
  const targets = targetsOf({ lab, nodes: new Map() }, record);
  await requireTools(toolsFor(targets));
  return readLab(lab, targets, { ...deps, recordDir: recordDir(deps.stateDir, lab) });
}

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
  return planFor({ lab, nodes: new Map() }, record, deps, extra, true);
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
  const { plan } = await planFor(empty, record, deps, extra, true);
  if (plan.changes.length === 0) {
    await forgetDestroyed(lab, record, deps);
    return { plan };
  }
  const execution = await execute(schedule(plan.changes), { ...deps, recordDir: recordDir(deps.stateDir, lab) });
  if (execution.failed.length > 0 || execution.notStarted.length > 0) return { plan, execution };
  const { plan: left } = await planFor(empty, record, deps, extra, true);
  if (left.changes.length > 0) throw new VerificationError(`after destroy the lab still has:\n${renderPlan(left)}`);
  await forgetDestroyed(lab, record, deps);
  return { plan, execution };
}
