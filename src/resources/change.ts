// Every kind of change, one per resource module: a Change is one thing apply will do, with the
// reason a person reads in the plan.
import type { AddressChange } from './address.js';
import type { PortChange } from './bridge-port.js';
import type { BridgeChange } from './bridge.js';
import type { DnsChange } from './dns.js';
import type { FdbChange } from './fdb.js';
import type { LinkChange } from './link.js';
import type { SettingsChange } from './link-settings.js';
import type { LoopbackChange } from './loopback.js';
import type { NamespaceChange } from './namespace.js';
import type { NeighborChange } from './neighbor.js';
import type { NftablesChange } from './nftables.js';
import type { ProcessesChange } from './processes.js';
import type { VlansChange } from './port-vlans.js';
import type { PublishChange } from './publish.js';
import type { QdiscChange } from './qdisc.js';
import type { RouteChange } from './route.js';
import type { RuleChange } from './rule.js';
import type { RunChange } from './run.js';
import type { SysctlChange } from './sysctl.js';
import type { VethChange } from './veth.js';
import type { VirtualChange } from './virtual.js';
import type { WireguardChange } from './wireguard.js';

export type Change =
  | ProcessesChange
  | NamespaceChange
  | PublishChange
  | LoopbackChange
  | LinkChange
  | BridgeChange
  | VethChange
  | VirtualChange
  | WireguardChange
  | SettingsChange
  | PortChange
  | VlansChange
  | AddressChange
  | RouteChange
  | RuleChange
  | NeighborChange
  | QdiscChange
  | FdbChange
  | SysctlChange
  | NftablesChange
  | DnsChange
  | RunChange;

export type ChangeKind = Change['kind'];

export type ChangeOf<K extends ChangeKind> = Extract<Change, { kind: K }>;
