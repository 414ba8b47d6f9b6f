// The resource modules, in the order a person would build a node: the plan lists each node's
// changes in this order, and everything that handles changes finds a change's module here.
import { addressResource } from './address.js';
import { bridgeResource } from './bridge.js';
import { portResource } from './bridge-port.js';
import { fdbResource } from './fdb.js';
import { vlansResource } from './port-vlans.js';
import type { Change, ChangeKind, ChangeOf } from './change.js';
import { dnsResource } from './dns.js';
import { linkResource } from './link.js';
import { settingsResource } from './link-settings.js';
import { loopbackResource } from './loopback.js';
import { namespaceResource } from './namespace.js';
import { neighborResource } from './neighbor.js';
import { nftablesResource } from './nftables.js';
import { processesResource } from './processes.js';
import { publishResource } from './publish.js';
import { qdiscResource } from './qdisc.js';
import type { FeatureNeed } from '../model/features.js';
import type { LabState } from '../model/types.js';
import type { BridgeRead, Command, IpRead, NodeResource, Resource, Scope, Unnamed } from './resource.js';
import { routeResource } from './route.js';
import { ruleResource } from './rule.js';
import { runResource } from './run.js';
import { sysctlResource } from './sysctl.js';
import { vethResource } from './veth.js';
import { virtualResource } from './virtual.js';
import { wireguardResource } from './wireguard.js';

type Registry = { [K in ChangeKind]: Resource<ChangeOf<K>> };

const BY_KIND: Registry = {
  processes: processesResource,
  netns: namespaceResource,
  publish: publishResource,
  loopback: loopbackResource,
  link: linkResource,
  bridge: bridgeResource,
  veth: vethResource,
  virtual: virtualResource,
  wireguard: wireguardResource,
  settings: settingsResource,
  port: portResource,
  vlans: vlansResource,
  address: addressResource,
  route: routeResource,
  rule: ruleResource,
  neighbor: neighborResource,
  qdisc: qdiscResource,
  fdb: fdbResource,
  sysctl: sysctlResource,
  nftables: nftablesResource,
  dns: dnsResource,
  run: runResource,
};

/** Every kind, in plan order. */
export const KIND_ORDER: readonly ChangeKind[] = Object.keys(BY_KIND) as ChangeKind[];

/**
 * The resources of the objects inside a node, in the order their differs run. Each sees the
 * node's link fate (link-fate.ts), decided before any of them.
 */
export const NODE_RESOURCES: ReadonlyArray<NodeResource<Change>> = [
  linkResource,
  bridgeResource,
  vethResource,
  virtualResource,
  wireguardResource,
  settingsResource,
  portResource,
  vlansResource,
  addressResource,
  routeResource,
  ruleResource,
  neighborResource,
  qdiscResource,
  fdbResource,
  sysctlResource,
  nftablesResource,
  dnsResource,
  runResource,
] as unknown as ReadonlyArray<NodeResource<Change>>;

export function resourceOf(change: { kind: ChangeKind }): Resource<Change> {
  return BY_KIND[change.kind] as unknown as Resource<Change>;
}

export function changeId(change: Unnamed<Change>): string {
  return change.id ?? resourceOf(change).id(change);
}

export function scopeOf(change: Change): Scope {
  return resourceOf(change).scope(change);
}

export function commandsOf(change: Change): Command[] {
  return resourceOf(change).commands(change);
}

export function summarize(change: Change): string {
  return resourceOf(change).summary(change);
}

export function compareChanges(a: Change, b: Change): number {
  return a.node.localeCompare(b.node) || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.id.localeCompare(b.id);
}

/** The resources' lines of the read batch (kernel/read.ts), in registry order. */
export const IP_READS: readonly IpRead[] = Object.values(BY_KIND).flatMap((r: Resource<Change>) => (r.ipRead ? [r.ipRead] : []));

/** The resources' lines of a node's `bridge -j -batch` read, where it needs them (kernel/read.ts). */
export const BRIDGE_READS: readonly BridgeRead[] = Object.values(BY_KIND).flatMap((r: Resource<Change>) => (r.bridgeRead ? [r.bridgeRead] : []));

/** The resources that find their own objects in a namespace the lab does not own (plan/ownership.ts). */
export const OWNING_RESOURCES: ReadonlyArray<Resource<Change>> = (Object.values(BY_KIND) as Array<Resource<Change>>).filter((r) => r.labsOwn !== undefined);

/** The resources whose objects the record lists where the lab does not own the namespace (state/bookkeeping.ts). */
export const KEEPING_RESOURCES: ReadonlyArray<Resource<Change>> = (Object.values(BY_KIND) as Array<Resource<Change>>).filter((r) => r.recordKeys !== undefined);

/** What the wanted state's objects need of the kernel, node by node in the file's order. */
export function featureNeeds(state: LabState): FeatureNeed[] {
  const resources = Object.values(BY_KIND) as Array<Resource<Change>>;
  return [...state.nodes.values()].flatMap((node) => resources.flatMap((r) => r.needs?.(node) ?? []));
}
