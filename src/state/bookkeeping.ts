// What the record says before and after a run. Pure: the engine reads and writes the files.
//
// Before a run the record grows to cover everything the run may make (so a run that stops half
// way leaves nothing the next run or destroy cannot find); after a verified run it is exactly
// what the file asks for, with what the kernel reported for it.
import { ALWAYS_THERE, interfaceKey, interfaceKeysResetBy } from '../model/forwarding.js';
import { ownsWholeNamespace, routeKey, type LabState, type NodeState } from '../model/types.js';
import type { LabMarks } from '../kernel/marks.js';
import type { Change } from '../plan/change.js';
import { BRIDGE_READS, KEEPING_RESOURCES, resourceOf } from '../resources/registry.js';
import { sysctlIdentity } from '../model/forwarding.js';
import { namespaceNames, NO_CLAIMS, type OtherLabsClaims, type SysctlClaim } from '../plan/other-labs.js';
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

/**
 * The interfaces' own values that writing `key` back to `original` would reset, where they differ
 * from it: interfaces that are not the lab's, and `default`.
 */
function interfacesResetBy(key: string, original: string, before: NodeState | undefined, lab: string, ownLinks: ReadonlySet<string>): Record<string, string> {
  const template = interfaceKeysResetBy(key);
  if (!template || !before) return {};
  const foreign = [...before.links.values()].filter((l) => l.owner !== lab && !ownLinks.has(l.name)).map((l) => l.name);
  const values: Record<string, string> = {};
  for (const dev of [...ALWAYS_THERE, ...foreign]) {
    const k = interfaceKey(template, dev);
    const value = before.sysctls.get(k);
    if (value !== undefined && value !== original) values[k] = value;
  }
  return values;
}

/**
 * Each sysctl the file sets here, with the value to put back when the lab stops setting it: the
 * first value seen, the machine's own. When another lab already changed the key, what that lab
 * found is the machine's own, not what is there now. Every key the file sets is listed, changed
 * or not, so that a lab holding a key is known to the others.
 */
function recordOriginals(node: RecordedNode, want: NodeState, before: NodeState | undefined, lab: string, claims: OtherLabsClaims): void {
  node.sysctls = { ...node.sysctls };
  const interfaces: Record<string, Record<string, string>> = { ...node.interfaceSysctls };
  const ownLinks = new Set(node.links ?? []);
  for (const key of want.sysctls.keys()) {
    if (node.sysctls[key] !== undefined) continue;
    const held: SysctlClaim | undefined = claims.sysctls.get(sysctlIdentity(key));
    const original = held?.original ?? before?.sysctls.get(key);
    if (original === undefined) continue;
    node.sysctls[key] = original;
    const reset = held ? { ...held.interfaces } : interfacesResetBy(key, original, before, lab, ownLinks);
    if (Object.keys(reset).length > 0) interfaces[key] = reset;
  }
  if (Object.keys(interfaces).length > 0) node.interfaceSysctls = interfaces;
}

/** What a plan makes in nodes the lab does not own, added to what the record already lists. */
function growPartial(node: RecordedNode, changes: readonly Change[], name: string): void {
  const links = changes.flatMap((c) => {
    if ((c.kind === 'bridge' || (c.kind === 'virtual' && c.action === 'create')) && c.node === name) return [c.name];
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
  for (const c of changes) {
    const key = c.node === name ? resourceOf(c).recordKey?.(c) : undefined;
    if (key !== undefined) node.objects = { ...node.objects, [c.kind]: union(node.objects?.[c.kind], [key]) };
  }
}

/** What the resources that keep their own list of a node once a run is verified. */
function recordedObjects(state: NodeState): Record<string, string[]> | undefined {
  const entries = KEEPING_RESOURCES.map((r) => [r.kind, r.recordKeys!(state)] as const).filter(([, keys]) => keys.length > 0);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** The bridge tables the node's wanted state has objects in. */
function bridgeTables(state: NodeState): string[] {
  return BRIDGE_READS.filter((r) => r.wanted(state)).map((r) => r.table);
}

/** otherLabs: per node, what other labs hold in its namespace (otherLabsClaims). */
export function recordBeforeRun(
  previous: LabRecord | undefined,
  desired: LabState,
  actual: LabState,
  changes: readonly Change[],
  file: string,
  otherLabs: ReadonlyMap<string, OtherLabsClaims> = new Map(),
): LabRecord {
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
    const tables = bridgeTables(state);
    if (tables.length > 0) nodes[name]!.bridgeReads = union(nodes[name]!.bridgeReads, tables);
    if (ownsWholeNamespace(state.kind)) continue;
    growPartial(nodes[name]!, changes, name);
    recordOriginals(nodes[name]!, state, actual.nodes.get(name), desired.lab, otherLabs.get(name) ?? NO_CLAIMS);
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
    const tables = bridgeTables(state);
    if (tables.length > 0) node.bridgeReads = tables;
    if (read?.nft) node.nft = Object.fromEntries(read.nft.chains.flatMap((c) => c.rules.map((r) => [r.id, r.fingerprint ?? ''])));
    if (!ownsWholeNamespace(state.kind)) {
      const made = [...state.links.values()].filter((l) => l.type !== 'existing');
      node.links = made.map((l) => l.name).sort();
      node.addresses = Object.fromEntries([...state.links.values()].filter((l) => l.type === 'existing' && l.addresses.length).map((l) => [l.name, [...l.addresses]]));
      node.routes = [...state.routes.keys()].sort();
      const objects = recordedObjects(state);
      if (objects) node.objects = objects;
      const originals = during.nodes[name]?.sysctls ?? {};
      node.sysctls = Object.fromEntries(Object.entries(originals).filter(([key]) => state.sysctls.has(key)));
      const interfaces = Object.entries(during.nodes[name]?.interfaceSysctls ?? {}).filter(([key]) => state.sysctls.has(key));
      if (interfaces.length > 0) node.interfaceSysctls = Object.fromEntries(interfaces);
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
      objects: new Map(Object.entries(node.objects ?? {}).map(([kind, keys]) => [kind, new Set(keys)])),
      ...(node.nft ? { nftRules: node.nft } : {}),
    });
  }
  return owned;
}

export function sysctlOriginals(record: LabRecord | undefined): Map<string, Record<string, string>> {
  return new Map(Object.entries(record?.nodes ?? {}).flatMap(([name, n]) => (n.sysctls ? [[name, n.sysctls] as const] : [])));
}

export function interfaceSysctls(record: LabRecord | undefined): Map<string, Record<string, Record<string, string>>> {
  return new Map(Object.entries(record?.nodes ?? {}).flatMap(([name, n]) => (n.interfaceSysctls ? [[name, n.interfaceSysctls] as const] : [])));
}

/** Whether the record lacks a sysctl the file sets where the lab does not own the namespace: the lab must be known to hold it. */
export function lacksHeldSysctls(record: LabRecord | undefined, desired: LabState): boolean {
  return [...desired.nodes.values()].some((n) => !ownsWholeNamespace(n.kind) && [...n.sysctls.keys()].some((k) => record?.nodes[n.node]?.sysctls?.[k] === undefined));
}

type NamespaceOf = Pick<RecordedNode, 'kind' | 'netns' | 'source'>;

/** Other labs' nodes in the same namespace as `node`. */
function sameNamespace(node: NamespaceOf, others: readonly LabRecord[]): Array<{ lab: string; node: RecordedNode }> {
  const names = new Set(namespaceNames(node));
  return others.flatMap((r) => Object.values(r.nodes).filter((n) => namespaceNames(n).some((x) => names.has(x))).map((n) => ({ lab: r.lab, node: n })));
}

/** Per node of this lab (in the file or its record), what other labs' records list in its namespace. */
export function otherLabsClaims(desired: LabState, record: LabRecord | undefined, others: readonly LabRecord[]): Map<string, OtherLabsClaims> {
  const nodes = new Map<string, NamespaceOf>([...Object.entries(record?.nodes ?? {}), ...desired.nodes]);
  const claims = new Map<string, OtherLabsClaims>();
  for (const [name, node] of nodes) {
    const links = new Map<string, string>();
    const addresses = new Map<string, Map<string, string>>();
    const routes = new Map<string, string>();
    const sysctls = new Map<string, SysctlClaim>();
    for (const { lab, node: theirs } of sameNamespace(node, others.filter((r) => r.lab !== desired.lab))) {
      for (const link of theirs.links ?? []) links.set(link, lab);
      for (const [dev, cidrs] of Object.entries(theirs.addresses ?? {})) for (const cidr of cidrs) addresses.set(dev, (addresses.get(dev) ?? new Map()).set(cidr, lab));
      for (const route of theirs.routes ?? []) routes.set(route, lab);
      for (const [key, original] of Object.entries(theirs.sysctls ?? {})) {
        const interfaces = theirs.interfaceSysctls?.[key];
        sysctls.set(sysctlIdentity(key), { lab, original, ...(interfaces ? { interfaces } : {}) });
      }
    }
    if (links.size + addresses.size + routes.size + sysctls.size > 0) claims.set(name, { links, addresses, routes, sysctls });
  }
  return claims;
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
