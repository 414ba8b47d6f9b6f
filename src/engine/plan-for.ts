// One plan: read what the file and the record name, then diff it against the file. Used by plan,
// by apply before and after its run (verify), and by destroy with an empty file.
import { requireFeatures } from '../kernel/features.js';
import { namespacesWithTheirIds } from '../kernel/marks.js';
import { readLab } from '../kernel/read.js';
import type { Runner } from '../kernel/runner.js';
import { kernelHasIpv6, requireTools, toolsFor } from '../kernel/tools.js';
import type { LabState } from '../model/types.js';
import { featureNeeds } from '../resources/registry.js';
import type { Change } from '../plan/change.js';
import { diff } from '../plan/diff.js';
import { narrowState, selectNodes } from '../plan/target.js';
import {
  creatingNodes,
  interfaceSysctls,
  nftFingerprints,
  otherLabsClaims,
  partialOwnership,
  sysctlOriginals,
} from '../state/bookkeeping.js';
import { kindChanges, recordWithout } from '../state/kind-change.js';
import { listRecords, mergeNodes, recordDir, type LabRecord } from '../state/record.js';
import { withPublicKeys } from '../state/wireguard-keys.js';
import { readDeps, type EngineDeps, type LabPlan } from './deps.js';
import { targetsOf } from './read-targets.js';

/**
 * What verify already knows after a run: the state before it, the changes made, and what the
 * namespaces' own last batches read back (kernel/execute.ts). A node no change reached is as it was.
 */
export interface RunSoFar {
  before: LabState;
  changes: readonly Change[];
  readBack: ReadonlyMap<string, string>;
  sysctlReadBack: ReadonlyMap<string, string>;
}

export interface PlanForOptions {
  /** Nodes to read besides the record's: for destroy, the namespaces its file names. */
  extra?: LabRecord['nodes'];
  /** Destroy: a namespace with the inode and id the record noted is the lab's, and its contents are not read. */
  destroying?: boolean;
  /** Verify: the run just made, so that the nodes it cannot have changed are not read again. */
  after?: RunSoFar;
}

/** Nodes the run cannot have changed: none of its changes is in them or reaches into them. */
function untouchedNodes(run: RunSoFar): Set<string> {
  // A deleted link or namespace takes veth ends elsewhere with it; which ones, only a read tells.
  if (run.changes.some((c) => c.action === 'delete' && (c.kind === 'link' || c.kind === 'netns'))) return new Set();
  const touched = new Set(run.changes.flatMap((c) => (c.kind === 'veth' ? [c.node, c.peer.node] : [c.node])));
  return new Set([...run.before.nodes.keys()].filter((n) => !touched.has(n)));
}

function hasWireguard(state: LabState): boolean {
  return [...state.nodes.values()].some((n) => n.wireguard.size > 0);
}

function hasLinkLocal(state: LabState): boolean {
  return [...state.nodes.values()].some((n) => [...n.links.values()].some((l) => l.linkLocal === true));
}

/** The state with no link-local IPv6 asked of any link: a kernel booted with ipv6.disable=1 has none to give. */
function withoutLinkLocal(state: LabState): LabState {
  const nodes = new Map([...state.nodes].map(([name, node]) => {
    const links = new Map([...node.links].map(([ifname, { linkLocal: _, ...link }]) => [ifname, link]));
    return [name, { ...node, links }];
  }));
  return { ...state, nodes };
}

export async function planFor(file: LabState, recordAsIs: LabRecord | undefined, deps: EngineDeps, options: PlanForOptions = {}): Promise<LabPlan> {
  const { extra, destroying = false, after: run } = options;
  // A node changing kind is planned as its new kind, as though its old one were gone (applyLab takes it away first).
  const changing = kindChanges(recordAsIs, file);
  const record = changing.length > 0 ? recordWithout(recordAsIs!, changing) : recordAsIs;
  const known = record ? { ...record, nodes: mergeNodes(extra ?? {}, record.nodes) } : extra ? { lab: file.lab, nodes: extra, updated: '' } : undefined;
  const untouched = run ? untouchedNodes(run) : new Set<string>();
  const selection = deps.nodes ? selectNodes(file, Object.keys(known?.nodes ?? {}), deps.nodes) : undefined;
  const narrowed = selection ? narrowState(file, selection) : file;
  const unkeyed = (await kernelHasIpv6()) || !hasLinkLocal(narrowed) ? narrowed : withoutLinkLocal(narrowed);
  const desired = hasWireguard(unkeyed) ? await withPublicKeys(unkeyed, recordDir(deps.stateDir, unkeyed.lab)) : unkeyed;
  const targets = targetsOf(desired, known).filter((t) => !untouched.has(t.node) && (!selection || selection.nodes.has(t.node)));
  for (const t of targets) if (changing.includes(t.node)) t.replacing = true;
  if (destroying) for (const t of targets) {
    const { inode, nsid } = record?.nodes[t.node] ?? {};
    if (inode && !desired.nodes.has(t.node)) t.recordedInode = { inode, lab: desired.lab, ...(nsid !== undefined ? { nsid } : {}) };
  }
  await requireTools(toolsFor(targets, { linkLocal: hasLinkLocal(desired) }));
  // Verify asks again of nothing: the plan before the run did.
  if (!run) await requireFeatures(deps.runner, featureNeeds(desired));
  const answers = { ipAnswers: run?.readBack, sysctlAnswers: run?.sysctlReadBack, pairsProven: run !== undefined };
  const read = await readLab(desired.lab, targets, readDeps(deps, desired.lab, answers));
  const actual = selection ? narrowState(read, selection) : read;
  for (const node of untouched) actual.nodes.set(node, run!.before.nodes.get(node)!);
  const otherLabs = otherLabsClaims(desired, known, await listRecords(deps.stateDir, { except: desired.lab }));
  const plan = diff(desired, actual, {
    madeByLab: await madeByLab(record, actual, deps.runner),
    known: new Set(Object.keys(record?.nodes ?? {})),
    nftFingerprints: nftFingerprints(record),
    partial: partialOwnership(record),
    sysctlOriginals: sysctlOriginals(record),
    interfaceSysctls: interfaceSysctls(record),
    otherLabs,
  });
  return { desired, actual, plan, record, selection, otherLabs };
}

/** The nodes whose unmarked namespace a crashed run of this lab made, proven by the id it recorded before making it. */
async function madeByLab(record: LabRecord | undefined, actual: LabState, runner: Runner): Promise<Set<string>> {
  const unmarked = [...creatingNodes(record)].filter(([n]) => actual.nodes.get(n)?.exists && actual.nodes.get(n)?.owner === undefined);
  const proven = await namespacesWithTheirIds(runner, new Map(unmarked.map(([n, nsid]) => [actual.nodes.get(n)!.netns!, nsid])));
  return new Set(unmarked.map(([n]) => n).filter((n) => proven.has(actual.nodes.get(n)!.netns!)));
}
