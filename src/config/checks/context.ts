// What the semantic checks share: the lab and its layout (model/layout.ts), the problems found
// so far, the topology the links make (built once by links.ts), and small helpers to report and
// to look things up.
import type { Layout, LinkEnd } from '../../model/layout.js';
import type { Locate, Path, Problem } from '../problem.js';
import type { LabSpec, NodeSpec } from '../spec.js';
import { nameList } from '../text.js';

/** A link whose ends both passed the checks. */
export interface Link {
  index: number;
  ends: [LinkEnd, LinkEnd];
  mtu?: number;
}

/** Who made an interface name in a node, to report collisions. */
export interface Claim {
  kind: 'bridge' | 'end' | 'port';
  label: string;
  path: Path;
  /** kind 'port': the bridge the port belongs to. */
  bridge?: string;
}

/** Everything the links make, derived once and shared by the checks. */
export interface Topology {
  links: Link[];
  /** node → interface name → who made it. */
  claims: Map<string, Map<string, Claim>>;
  /** "node\0ifname" of link ends rejected for their name: already reported, not reported again. */
  rejected: Set<string>;
}

export interface Ctx {
  spec: LabSpec;
  layout: Layout;
  locate: Locate;
  problems: Problem[];
  topology: Topology;
  /** The node names as messages list them, once made. */
  nodeList?: string;
}

export function report(ctx: Ctx, path: Path, message: string, hint?: string, part?: 'key' | 'value'): void {
  ctx.problems.push({ path, message, hint, part });
}

/** Something that may be meant, but usually is a slip: said, and the lab still valid. */
export function warn(ctx: Ctx, path: Path, message: string, hint?: string): void {
  ctx.problems.push({ path, message, hint, severity: 'warning' });
}

export function lineOf(ctx: Ctx, path: Path, part?: 'key' | 'value'): number {
  return ctx.locate(path, part).line;
}

export function nodeEntries(spec: LabSpec): Array<[string, NodeSpec]> {
  return Object.entries(spec.nodes);
}

/** Made once per check: a lab of many nodes with a typo in every link asks for it every time. */
export function nodeList(ctx: Ctx): string {
  return (ctx.nodeList ??= nameList(Object.keys(ctx.spec.nodes)));
}

/** Own keys only: a node named "constructor" must not find Object.prototype. */
export function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** One device of one node, as topology.rejected and the L2 segments key it. */
export function deviceKey(node: string, device: string): string {
  return `${node}\0${device}`;
}

/** Names of the interfaces and bridges a node will have, as `dev`, `in` and `out` may name them. */
export function devicesOf(ctx: Ctx, name: string, node: NodeSpec): Set<string> {
  return new Set(['lo', ...(ctx.topology.claims.get(name)?.keys() ?? []), ...Object.keys(node.interfaces ?? {})]);
}

export function deviceList(devices: Set<string>): string {
  return nameList(devices);
}
