// The flow of plan, apply and destroy: read → diff → schedule → execute → verify. The only
// module that ties the pure pieces to the kernel; the CLI formats what it returns.
import { readdir } from 'node:fs/promises';
import pLimit from 'p-limit';
import type { LabSpec } from './config/spec.js';
import { ConflictError, VerificationError } from './errors.js';
import { execute, type ExecuteLog, type ExecuteResult } from './kernel/execute.js';
import { parseNode, type IpLinkJson } from './kernel/parse.js';
import { RUN_NETNS } from './kernel/paths.js';
import { readLab, type NodeToRead } from './kernel/read.js';
import { inNamespace, type Runner } from './kernel/runner.js';
import { requireTools, type Tool } from './kernel/tools.js';
import { labFromMark } from './model/names.js';
import { nftTableName } from './model/nft.js';
import { resolveLab } from './model/resolve.js';
import type { LabState } from './model/types.js';
import type { Plan } from './plan/change.js';
import { diff } from './plan/diff.js';
import { schedule } from './plan/graph.js';
import { renderPlan } from './plan/render.js';
import { creatingNodes, mergeNodes, readRecord, removeRecord, writeRecord, type LabRecord } from './state/record.js';

export interface EngineDeps {
  runner: Runner;
  /** Processes at once; namespaces are independent, the machine's cores are not. */
  concurrency: number;
  stateDir: string;
  log?: ExecuteLog;
}

export interface LabPlan {
  desired: LabState;
  actual: LabState;
  plan: Plan;
  record?: LabRecord;
}

function recordedNodes(state: LabState): LabRecord['nodes'] {
  const nodes: LabRecord['nodes'] = {};
  for (const [name, node] of state.nodes) nodes[name] = { netns: node.netns, kind: 'netns' };
  return nodes;
}

function targetsOf(desired: LabState, record: LabRecord | undefined): NodeToRead[] {
  const table = nftTableName(desired.lab);
  const targets = new Map<string, NodeToRead>();
  for (const [node, { netns, nft }] of Object.entries(record?.nodes ?? {})) {
    targets.set(node, { node, netns, sysctlKeys: [], nftTable: nft ? table : undefined });
  }
  for (const [node, state] of desired.nodes) {
    const recorded = record?.nodes[node]?.nft !== undefined;
    targets.set(node, { node, netns: state.netns, sysctlKeys: [...state.sysctls.keys()], nftTable: state.nft || recorded ? table : undefined });
  }
  return [...targets.values()].sort((a, b) => a.node.localeCompare(b.node));
}

function nftFingerprints(record: LabRecord | undefined): Map<string, Record<string, string>> {
  return new Map(Object.entries(record?.nodes ?? {}).flatMap(([node, n]) => (n.nft ? [[node, n.nft] as const] : [])));
}

/** What the record keeps of a node's nftables rules: their fingerprints as the kernel has them now. */
function readBackFingerprints(actual: LabState, nodes: LabRecord['nodes']): void {
  for (const [name, node] of actual.nodes) {
    const recorded = nodes[name];
    if (!recorded) continue;
    if (!node.nft) {
      delete recorded.nft;
      continue;
    }
    recorded.nft = Object.fromEntries(node.nft.chains.flatMap((c) => c.rules.map((r) => [r.id, r.fingerprint ?? ''])));
  }
}

function toolsFor(targets: readonly NodeToRead[]): Tool[] {
  const tools: Tool[] = ['ip', 'nsenter'];
  if (targets.some((t) => t.sysctlKeys.length > 0)) tools.push('sysctl');
  if (targets.some((t) => t.nftTable)) tools.push('nft');
  return tools;
}

async function planFor(desired: LabState, record: LabRecord | undefined, deps: EngineDeps, extra?: LabRecord['nodes']): Promise<LabPlan> {
  const known = record ? { ...record, nodes: mergeNodes(extra ?? {}, record.nodes) } : extra ? { lab: desired.lab, nodes: extra, updated: '' } : undefined;
  const targets = targetsOf(desired, known);
  await requireTools(toolsFor(targets));
  const actual = await readLab(desired.lab, targets, deps);
  const plan = diff(desired, actual, { recorded: creatingNodes(record), nftFingerprints: nftFingerprints(record) });
  return { desired, actual, plan, record };
}

export async function planLab(spec: LabSpec, deps: EngineDeps): Promise<LabPlan> {
  return planFor(resolveLab(spec), await readRecord(deps.stateDir, spec.name), deps);
}

export interface ApplyResult {
  plan: Plan;
  execution?: ExecuteResult;
  rounds: number;
}

/** After a run, the kernel must match the file; anything that still differs is named. */
async function verify(desired: LabState, record: LabRecord | undefined, deps: EngineDeps): Promise<LabState> {
  const { plan, actual } = await planFor(desired, record, deps);
  if (plan.changes.length > 0 || plan.conflicts.length > 0) {
    throw new VerificationError(`after the run the kernel still differs from the file:\n${renderPlan(plan)}`);
  }
  return actual;
}

export async function applyLab(spec: LabSpec, file: string, deps: EngineDeps): Promise<ApplyResult> {
  const { desired, plan, record } = await planFor(resolveLab(spec), await readRecord(deps.stateDir, spec.name), deps);
  if (plan.conflicts.length > 0) throw new ConflictError(renderPlan({ ...plan, changes: [] }));
  if (plan.changes.length === 0) return { plan, rounds: 0 };

  // Written first: whatever the run leaves behind, the record knows every namespace it may touch.
  const creating = new Set(plan.changes.filter((c) => c.kind === 'netns' && c.action === 'create').map((c) => c.node));
  const nodes = mergeNodes(record?.nodes ?? {}, recordedNodes(desired));
  for (const name of creating) nodes[name] = { ...nodes[name]!, creating: true };
  // A table about to be made must be findable by the next run, whatever happens to this one.
  for (const [name, state] of desired.nodes) if (state.nft) nodes[name] = { ...nodes[name]!, nft: record?.nodes[name]?.nft ?? {} };
  const during: LabRecord = { lab: spec.name, file, nodes, updated: new Date().toISOString() };
  await writeRecord(deps.stateDir, during);
  const steps = schedule(plan.changes);
  const execution = await execute(steps, deps);
  if (execution.failed.length > 0) return { plan, execution, rounds: steps.rounds.length };

  const actual = await verify(desired, during, deps);
  const after: LabRecord = { ...during, nodes: recordedNodes(desired), updated: new Date().toISOString() };
  readBackFingerprints(actual, after.nodes);
  await writeRecord(deps.stateDir, after);
  return { plan, execution, rounds: steps.rounds.length };
}

/** Namespaces marked as the lab's, for a destroy that has neither the file nor the record. */
async function scanForLab(lab: string, deps: EngineDeps): Promise<LabRecord['nodes']> {
  const names = await readdir(RUN_NETNS).catch(() => [] as string[]);
  const limit = pLimit(deps.concurrency);
  const marks = await Promise.all(
    names.map((netns) =>
      limit(async () => {
        const out = await deps.runner.run(inNamespace(netns, ['ip', '-j', 'link', 'show', 'dev', 'lo']));
        if (out.exitCode !== 0) return undefined;
        const lo = parseNode(netns, netns, { links: JSON.parse(out.stdout) as IpLinkJson[], routes4: [], routes6: [] });
        return labFromMark(lo.owner) ?? lo.owner;
      }),
    ),
  );
  const nodes: LabRecord['nodes'] = {};
  names.forEach((netns, i) => {
    if (marks[i] === lab) nodes[netns] = { netns, kind: 'netns' };
  });
  return nodes;
}

export interface DestroyResult {
  plan: Plan;
  execution?: ExecuteResult;
}

export async function destroyLab(lab: string, spec: LabSpec | undefined, deps: EngineDeps): Promise<DestroyResult> {
  const record = await readRecord(deps.stateDir, lab);
  // Where to look besides the record: the file's namespaces, or those marked as the lab's.
  const extra = spec ? recordedNodes(resolveLab(spec)) : record ? {} : await scanForLab(lab, deps);
  const empty: LabState = { lab, nodes: new Map() };
  const { plan } = await planFor(empty, record, deps, extra);
  if (plan.changes.length === 0) {
    await removeRecord(deps.stateDir, lab);
    return { plan };
  }
  const execution = await execute(schedule(plan.changes), deps);
  if (execution.failed.length > 0) return { plan, execution };
  const { plan: left } = await planFor(empty, record, deps, extra);
  if (left.changes.length > 0) throw new VerificationError(`after destroy the lab still has:\n${renderPlan(left)}`);
  await removeRecord(deps.stateDir, lab);
  return { plan, execution };
}
