// What the record says before and after a run. Pure: the engine reads and writes the files.
//
// Before a run the record grows to cover everything the run may make (so a run that stops half
// way leaves nothing the next run or destroy cannot find); after a verified run it is exactly
// what the file asks for, with what the kernel reported for it.
import { ownsWholeNamespace, routeKey, type LabState } from '../model/types.js';
import type { LabMarks } from '../kernel/marks.js';
import type { Change } from '../plan/change.js';
import type { PartialOwnership } from '../plan/ownership.js';
import type { LabRecord, RecordedNode } from './record.js';

function baseNode(state: LabState, name: string): RecordedNode {
  const node = state.nodes.get(name)!;
  const recorded: RecordedNode = { netns: node.netns, kind: node.kind };
  if (node.source) recorded.source = node.source;
  return recorded;
}

function union(a: readonly string[] | undefined, b: Iterable<string>): string[] {
  return [...new Set([...(a ?? []), ...b])].sort();
}

/** What a plan makes in nodes the lab does not own, added to what the record already lists. */
function growPartial(node: RecordedNode, changes: readonly Change[], actual: LabState, name: string): void {
  const links = changes.flatMap((c) => {
    if (c.kind === 'bridge' && c.node === name) return [c.name];
    if (c.kind === 'veth') return [...(c.node === name ? [c.name] : []), ...(c.peer.node === name ? [c.peer.name] : [])];
    return [];
  });
  node.links = union(node.links, links);
  const ownLinks = new Set(node.links);
  node.addresses = { ...node.addresses };
  for (const c of changes) {
    if (c.kind === 'address' && c.node === name && c.action === 'create' && !ownLinks.has(c.dev)) {
      node.addresses[c.dev] = union(node.addresses[c.dev], [c.cidr]);
    }
  }
  node.routes = union(node.routes, changes.flatMap((c) => (c.kind === 'route' && c.node === name && c.action !== 'delete' ? [routeKey(c.route)] : [])));
  const before = actual.nodes.get(name)?.sysctls ?? new Map<string, string>();
  node.sysctls = { ...node.sysctls };
  for (const c of changes) {
    const original = c.kind === 'sysctl' && c.node === name ? before.get(c.key) : undefined;
    // The first value seen is the machine's own; later runs must not overwrite it with the lab's.
    if (c.kind === 'sysctl' && original !== undefined && node.sysctls[c.key] === undefined) node.sysctls[c.key] = original;
  }
}

export function recordBeforeRun(previous: LabRecord | undefined, desired: LabState, actual: LabState, changes: readonly Change[], file: string): LabRecord {
  const nodes: LabRecord['nodes'] = {};
  for (const [name, node] of Object.entries(previous?.nodes ?? {})) nodes[name] = structuredClone(node);
  for (const name of desired.nodes.keys()) nodes[name] = { ...nodes[name], ...baseNode(desired, name) };
  for (const c of changes) {
    if (c.kind !== 'netns' || c.action !== 'create') continue;
    nodes[c.node]!.creating = true;
    if (c.nsid !== undefined) nodes[c.node]!.nsid = c.nsid;
  }
  for (const [name, state] of desired.nodes) {
    // A table about to be made must be findable by the next run, whatever happens to this one.
    if (state.nft) nodes[name]!.nft ??= {};
    if (!ownsWholeNamespace(state.kind)) growPartial(nodes[name]!, changes, actual, name);
  }
  return { lab: desired.lab, file, nodes, updated: new Date().toISOString() };
}

export function recordAfterRun(during: LabRecord, desired: LabState, actual: LabState): LabRecord {
  const nodes: LabRecord['nodes'] = {};
  for (const [name, state] of desired.nodes) {
    const node = baseNode(desired, name);
    const read = actual.nodes.get(name);
    if (read?.inode && state.kind === 'netns') node.inode = read.inode;
    const nsid = during.nodes[name]?.nsid;
    if (nsid !== undefined && state.kind === 'netns') node.nsid = nsid;
    if (read?.nft) node.nft = Object.fromEntries(read.nft.chains.flatMap((c) => c.rules.map((r) => [r.id, r.fingerprint ?? ''])));
    if (!ownsWholeNamespace(state.kind)) {
      const made = [...state.links.values()].filter((l) => l.type !== 'existing');
      node.links = made.map((l) => l.name).sort();
      node.addresses = Object.fromEntries([...state.links.values()].filter((l) => l.type === 'existing' && l.addresses.length).map((l) => [l.name, [...l.addresses]]));
      node.routes = [...state.routes.keys()].sort();
      const originals = during.nodes[name]?.sysctls ?? {};
      node.sysctls = Object.fromEntries(Object.entries(originals).filter(([key]) => state.sysctls.has(key)));
    }
    nodes[name] = node;
  }
  return { ...during, nodes, updated: new Date().toISOString() };
}

export function partialOwnership(record: LabRecord | undefined): Map<string, PartialOwnership> {
  const owned = new Map<string, PartialOwnership>();
  for (const [name, node] of Object.entries(record?.nodes ?? {})) {
    if (ownsWholeNamespace(node.kind)) continue;
    owned.set(name, {
      links: new Set(node.links ?? []),
      addresses: new Map(Object.entries(node.addresses ?? {}).map(([dev, cidrs]) => [dev, new Set(cidrs)])),
      routes: new Set(node.routes ?? []),
      ...(node.nft ? { nftRules: node.nft } : {}),
    });
  }
  return owned;
}

export function sysctlOriginals(record: LabRecord | undefined): Map<string, Record<string, string>> {
  return new Map(Object.entries(record?.nodes ?? {}).flatMap(([name, n]) => (n.sysctls ? [[name, n.sysctls] as const] : [])));
}

export function nftFingerprints(record: LabRecord | undefined): Map<string, Record<string, string>> {
  return new Map(Object.entries(record?.nodes ?? {}).flatMap(([node, n]) => (n.nft ? [[node, n.nft] as const] : [])));
}

/**
 * Nodes whose namespace a run was creating, with the id it gave it in the root namespace: one that
 * exists without its mark is that run's only if it has that id (see namespaceIds).
 */
export function creatingNodes(record: LabRecord | undefined): Map<string, number> {
  return new Map(Object.entries(record?.nodes ?? {}).flatMap(([name, n]) => (n.creating && n.nsid !== undefined ? [[name, n.nsid] as const] : [])));
}

export function recordedNodes(state: LabState): LabRecord['nodes'] {
  return Object.fromEntries([...state.nodes.keys()].map((name) => [name, baseNode(state, name)]));
}

/**
 * A record's nodes from what the kernel's marks prove, for a lab whose record is missing or bad:
 * its marked namespaces, and in the root namespace (as `hostNode`) its marked links and its table.
 */
export function nodesFromMarks(marks: LabMarks, hostNode: string): LabRecord['nodes'] {
  const nodes: LabRecord['nodes'] = Object.fromEntries(marks.namespaces.map((netns) => [netns, { netns, kind: 'netns' } satisfies RecordedNode]));
  if (marks.hostLinks.length > 0 || marks.hostTable === 'lab') {
    nodes[hostNode] = { netns: null, kind: 'host', links: marks.hostLinks, ...(marks.hostTable === 'lab' ? { nft: {} } : {}) };
  }
  return nodes;
}
