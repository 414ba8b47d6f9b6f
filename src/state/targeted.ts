// The record around a run narrowed with --node (plan/target.ts). Pure: the engine writes it.
// Nodes outside the selection keep what the record said of them; so do the left-out link ends
// of a selected host or attach node, which the run neither made nor removed.
import type { Selection } from '../plan/target.js';
import type { LabRecord, RecordedNode } from './record.js';

function keepLeftOut(after: RecordedNode, during: RecordedNode | undefined, selection: Selection, name: string): RecordedNode {
  const end = selection.ends.get(name);
  if (!end || !during) return after;
  const kept = { ...after };
  const links = (during.links ?? []).filter((l) => end.links.has(l));
  if (links.length) kept.links = [...new Set([...(after.links ?? []), ...links])].sort();
  const routes = (during.routes ?? []).filter((r) => end.routes.has(r));
  if (routes.length) kept.routes = [...new Set([...(after.routes ?? []), ...routes])].sort();
  const sysctls = Object.entries(during.sysctls ?? {}).filter(([key]) => end.sysctls.has(key));
  if (sysctls.length) kept.sysctls = { ...Object.fromEntries(sysctls), ...after.sysctls };
  return kept;
}

/** After a verified narrowed run: its nodes as recordAfterRun wrote them, every other node as before. */
export function recordAfterTargetedRun(during: LabRecord, after: LabRecord, selection: Selection): LabRecord {
  const nodes: LabRecord['nodes'] = {};
  for (const name of [...new Set([...Object.keys(during.nodes), ...Object.keys(after.nodes)])].sort()) {
    if (!selection.nodes.has(name)) nodes[name] = during.nodes[name]!;
    else if (after.nodes[name]) nodes[name] = keepLeftOut(after.nodes[name], during.nodes[name], selection, name);
    // Selected and not in after: the file no longer has it and the run removed it.
  }
  return { ...after, nodes };
}

/** After destroy --node: the record without those nodes; undefined when no node is left. */
export function recordLeftAfterDestroy(record: LabRecord, removed: ReadonlySet<string>): LabRecord | undefined {
  const nodes = Object.fromEntries(Object.entries(record.nodes).filter(([name]) => !removed.has(name)));
  if (Object.keys(nodes).length === 0) return undefined;
  return { ...record, nodes, updated: new Date().toISOString() };
}
