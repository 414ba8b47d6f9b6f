// A node whose kind the file changes (netns ↔ attach) is two things at one /run/netns name: the
// old one must be taken away whole, as destroy would, before the new one can be made or published.
// Which nodes, and the record split around them. Pure.
import type { LabState } from '../model/types.js';
import type { LabRecord } from './record.js';

/** Nodes the record has as one kind and the file as another. */
export function kindChanges(record: LabRecord | undefined, desired: LabState): string[] {
  return Object.entries(record?.nodes ?? {})
    .filter(([name, node]) => desired.nodes.has(name) && desired.nodes.get(name)!.kind !== node.kind)
    .map(([name]) => name)
    .sort();
}

/** The record as it is for those nodes alone: what taking them away reads and removes. */
export function recordOf(record: LabRecord, nodes: readonly string[]): LabRecord {
  return { ...record, nodes: Object.fromEntries(nodes.map((n) => [n, record.nodes[n]!])) };
}

/** The record once those nodes are gone: the file's new kind starts from nothing. */
export function recordWithout(record: LabRecord, nodes: readonly string[]): LabRecord {
  return { ...record, nodes: Object.fromEntries(Object.entries(record.nodes).filter(([n]) => !nodes.includes(n))) };
}
