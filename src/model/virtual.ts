// Interfaces made inside a node by `kind:` (not by a link): each kind's settings, the words of
// `ip link add` that make one, the settings the kernel changes in place, and how `ip -d -j link`
// reports them back. Pure: one table that the resolver, the reader, the planner and the views share.
import type { InterfaceSpec } from './spec.js';
import { canonicalIp } from './ip.js';

export const VIRTUAL_KINDS = ['macvlan', 'vxlan', 'dummy', 'vlan', 'vrf', 'bond', 'gre', 'ipip', 'wireguard'] as const;
export type VirtualKind = (typeof VIRTUAL_KINDS)[number];

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const;

/** A kind's own settings, canonical (addresses canonical, defaults filled). */
export type VirtualSettings = Record<string, string | number | boolean>;

/** The interface a virtual one rides on; `node` differs from its own node for a macvlan made into another node. */
export interface VirtualParent {
  node: string;
  name: string;
}

export interface VirtualLink {
  kind: VirtualKind;
  parent?: VirtualParent;
  /** Actual only: the parent is in another namespace (a macvlan made into another node), which this one cannot name. */
  parentElsewhere?: boolean;
  settings: VirtualSettings;
}

/** The file's keys that belong to kinds, by kind: anything else of these on a kind is an error. */
export const KIND_KEYS: Readonly<Record<VirtualKind, readonly string[]>> = {
  macvlan: ['parent', 'mode'],
  vxlan: ['id', 'local', 'remote', 'group', 'parent', 'dstport', 'learning'],
  dummy: [],
  vlan: ['parent', 'id'],
  vrf: ['table'],
  bond: ['mode', 'miimon'],
  gre: ['local', 'remote'],
  ipip: ['local', 'remote'],
  wireguard: ['listen', 'key', 'peers'],
};

/** Every key any kind takes. */
export const ALL_KIND_KEYS: readonly string[] = [...new Set(Object.values(KIND_KEYS).flat())];

/** Keys a kind cannot do without. */
export const REQUIRED_KEYS: Readonly<Record<VirtualKind, readonly string[]>> = {
  macvlan: ['parent'],
  vxlan: ['id'],
  dummy: [],
  vlan: ['parent', 'id'],
  vrf: ['table'],
  bond: [],
  gre: ['remote'],
  ipip: ['remote'],
  wireguard: [],
};

/** Settings `ip link set dev X type KIND ...` changes on a live interface; the rest needs a new one. */
const IN_PLACE: Readonly<Partial<Record<VirtualKind, readonly string[]>>> = {
  macvlan: ['mode'],
  vxlan: ['learning'],
  bond: ['miimon'],
};

export const VXLAN_PORT = 4789;
export const BOND_MIIMON = 100;

/** The file's interface, as far as its kind goes. */
export type KindSpec = { kind: VirtualKind } & Pick<InterfaceSpec, 'parent' | 'mode' | 'id' | 'local' | 'remote' | 'group' | 'dstport' | 'learning' | 'table' | 'miimon'>;

/** The settings the file wants, with the kernel's defaults filled so that they compare with what is read back. */
export function wantedSettings(spec: KindSpec): VirtualSettings {
  const s: VirtualSettings = {};
  const ip = (text: string | undefined, key: string) => {
    if (text !== undefined) s[key] = canonicalIp(text);
  };
  switch (spec.kind) {
    case 'macvlan':
      s.mode = spec.mode ?? 'bridge';
      break;
    case 'vxlan':
      s.id = spec.id!;
      ip(spec.local, 'local');
      ip(spec.remote, 'remote');
      ip(spec.group, 'group');
      s.dstport = spec.dstport ?? VXLAN_PORT;
      s.learning = spec.learning ?? true;
      break;
    case 'vlan':
      s.id = spec.id!;
      break;
    case 'vrf':
      s.table = spec.table!;
      break;
    case 'bond':
      s.mode = spec.mode ?? 'balance-rr';
      // The kernel's 0 watches no member's link, so a bond never fails over: netlab's default checks every 100 ms.
      s.miimon = spec.miimon ?? BOND_MIIMON;
      break;
    case 'gre':
    case 'ipip':
      ip(spec.local, 'local');
      ip(spec.remote, 'remote');
      break;
    case 'dummy':
    case 'wireguard':
      break;
  }
  return s;
}

/** `ip -d -j link`'s linkinfo.info_data of a kind, as settings; undefined for a kind netlab does not make. */
export function readSettings(kind: string | undefined, data: Record<string, unknown> | undefined): VirtualSettings | undefined {
  if (!(VIRTUAL_KINDS as readonly string[]).includes(kind ?? '')) return undefined;
  const d = data ?? {};
  const s: VirtualSettings = {};
  const copy = (from: string, to = from) => {
    const v = d[from];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') s[to] = typeof v === 'string' && to !== 'mode' ? canonicalIpOr(v) : v;
  };
  switch (kind as VirtualKind) {
    case 'macvlan':
      copy('mode');
      break;
    case 'bond':
      copy('mode');
      copy('miimon');
      break;
    case 'vxlan':
      copy('id');
      copy('local');
      copy('remote');
      copy('group');
      copy('port', 'dstport');
      copy('learning');
      break;
    case 'vlan':
      copy('id');
      break;
    case 'vrf':
      copy('table');
      break;
    case 'gre':
    case 'ipip':
      copy('local');
      copy('remote');
      // The kernel says "any" for a tunnel with no local address.
      if (s.local === 'any') delete s.local;
      break;
    case 'dummy':
    case 'wireguard':
      break;
  }
  return s;
}

function canonicalIpOr(text: string): string {
  try {
    return canonicalIp(text);
  } catch {
    return text;
  }
}

function settingWords(kind: VirtualKind, key: string, value: string | number | boolean): string[] {
  if (kind === 'vxlan' && key === 'learning') return [value ? 'learning' : 'nolearning'];
  return [key, String(value)];
}

const ORDER: Readonly<Record<VirtualKind, readonly string[]>> = {
  macvlan: ['mode'],
  vxlan: ['id', 'local', 'remote', 'group', 'dstport', 'learning'],
  dummy: [],
  vlan: ['id'],
  vrf: ['table'],
  bond: ['mode', 'miimon'],
  gre: ['local', 'remote'],
  ipip: ['local', 'remote'],
  // Its keys and peers are wg's to set (resources/wireguard.ts), not ip's.
  wireguard: [],
};

function typeWords(kind: VirtualKind, settings: VirtualSettings, keys: readonly string[]): string {
  return ORDER[kind].filter((k) => keys.includes(k) && settings[k] !== undefined).flatMap((k) => settingWords(kind, k, settings[k]!)).join(' ');
}

/**
 * The `ip link add` line that makes it, run in the parent's namespace: `netns` places it in its
 * own when that is another. A vxlan names its underlay with `dev`, the others with `link`.
 */
export function addLine(name: string, link: VirtualLink, netns: string | undefined): string {
  const parent = link.parent === undefined ? '' : link.kind === 'vxlan' ? '' : ` link ${link.parent.name}`;
  const into = netns === undefined ? '' : ` netns ${netns}`;
  const words = typeWords(link.kind, link.settings, ORDER[link.kind]);
  const dev = link.kind === 'vxlan' && link.parent ? ` dev ${link.parent.name}` : '';
  return `link add name ${name}${parent}${into} type ${link.kind}${words ? ` ${words}` : ''}${dev}`;
}

/** The `ip link set` line that changes these settings in place. */
export function setLine(name: string, kind: VirtualKind, set: VirtualSettings): string {
  return `link set dev ${name} type ${kind} ${typeWords(kind, set, Object.keys(set))}`;
}

/** Settings that differ, split into those changed in place and those that need the interface made again. */
export function settingsDelta(kind: VirtualKind, want: VirtualSettings, have: VirtualSettings): { inPlace: VirtualSettings; remake: string[] } {
  const inPlace: VirtualSettings = {};
  const remake: string[] = [];
  for (const key of [...new Set([...Object.keys(want), ...Object.keys(have)])].sort()) {
    if (want[key] === have[key]) continue;
    if ((IN_PLACE[kind] ?? []).includes(key) && want[key] !== undefined) inPlace[key] = want[key]!;
    else remake.push(key);
  }
  return { inPlace, remake };
}

export function describeSettings(settings: VirtualSettings): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
}

/** What a master may be: the kinds of interface that take ports (a bridge is no kind: it has its own section). */
export const MASTER_KINDS: readonly VirtualKind[] = ['bond', 'vrf'];
