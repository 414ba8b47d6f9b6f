// The lab file resolved once: what each link end is (an interface, or a new port of a bridge and
// the name that port gets), and every address parsed, each with the path to where the file
// writes it. The semantic checks report from it; resolveLab builds the desired state from it.
// Tolerant: a file not yet valid is laid out as far as it goes, what cannot be resolved is said.
import { parseCidr, parseIp, type CidrResult, type Ip } from './ip.js';
import { bridgePortName, parseEndpoint } from './names.js';
import type { LabSpec, LinkSpec, Path, RouteSpec } from './spec.js';

/** A link end that names a node of the lab. */
export interface LinkEnd {
  /** As written: "c0:eth0". */
  text: string;
  path: Path;
  node: string;
  ifname: string;
  /** Set when ifname names a bridge of the node: the end is a new port of that bridge. */
  bridge?: string;
  /** A bridge end whose far end resolves: the name of the port it makes (bridgePortName). */
  port?: string;
}

/** A link end that cannot be resolved: not NODE:IFNAME, or a node the lab does not have. */
export type UnresolvedEnd = { text: string; path: Path; problem: 'syntax' } | { text: string; path: Path; problem: 'no-node'; node: string };

export type End = LinkEnd | UnresolvedEnd;

export interface LaidLink {
  /** Its index under links:. */
  index: number;
  ends: [End, End];
  mtu?: number;
}

/** An address of a bridge or interface, parsed. */
export interface PlacedAddress {
  node: string;
  section: 'interfaces' | 'bridges';
  device: string;
  text: string;
  path: Path;
  parsed: CidrResult;
}

/** A route of a node, its destination and gateway parsed. */
export interface PlacedRoute {
  route: RouteSpec;
  path: Path;
  to: 'default' | CidrResult;
  /** undefined when the route has no via, or its via is no IP address. */
  via?: Ip;
  /** Each nexthop's gateway, in file order; undefined where it is no IP address. */
  nexthops?: Array<Ip | undefined>;
  /** undefined when the route has no src, or its src is no IP address. */
  src?: Ip;
  /** The table by number, a name looked up in the node's tables; undefined for main, or a name it lacks. */
  table?: number;
}

/** The kernel's main table, which a route's key names no table for. */
export const MAIN_TABLE = 254;

/** A table as the file writes it → its number; main is undefined, an unknown name null. */
export function tableNumber(table: number | string | undefined, names: Readonly<Record<string, number>> | undefined): number | undefined | null {
  if (table === undefined || table === 'main') return undefined;
  const number = typeof table === 'number' ? table : Object.hasOwn(names ?? {}, table) ? names![table]! : null;
  return number === MAIN_TABLE ? undefined : number;
}

export interface Layout {
  /** Every link, in file order. */
  links: LaidLink[];
  /** Node → its addresses: its interfaces', then its bridges', in file order. */
  addresses: Map<string, PlacedAddress[]>;
  /** Node → its routes, in file order. */
  routes: Map<string, PlacedRoute[]>;
}

export function isResolved(end: End): end is LinkEnd {
  return !('problem' in end);
}

/** The name of the interface a resolved end makes: its own, or its bridge port's. */
export function deviceOf(end: LinkEnd): string | undefined {
  return end.bridge === undefined ? end.ifname : end.port;
}

function endsOf(link: LinkSpec, index: number): Array<{ text: string; path: Path }> {
  if (Array.isArray(link)) return link.map((text, j) => ({ text, path: ['links', index, j] }));
  return link.endpoints.map((text, j) => ({ text, path: ['links', index, 'endpoints', j] }));
}

function resolveEnd(spec: LabSpec, text: string, path: Path): End {
  const endpoint = parseEndpoint(text);
  if (!endpoint) return { text, path, problem: 'syntax' };
  const node = Object.hasOwn(spec.nodes, endpoint.node) ? spec.nodes[endpoint.node] : undefined;
  if (!node) return { text, path, problem: 'no-node', node: endpoint.node };
  const isBridge = node.bridges !== undefined && Object.hasOwn(node.bridges, endpoint.ifname);
  return isBridge ? { text, path, ...endpoint, bridge: endpoint.ifname } : { text, path, ...endpoint };
}

/** A bridge end becomes a port named after the far end, once both are known. */
function withPort(near: End, far: End): End {
  if (!isResolved(near) || near.bridge === undefined || !isResolved(far)) return near;
  return { ...near, port: bridgePortName(far) };
}

function layOutLink(spec: LabSpec, link: LinkSpec, index: number): LaidLink {
  const [a, b] = endsOf(link, index).map(({ text, path }) => resolveEnd(spec, text, path)) as [End, End];
  const mtu = Array.isArray(link) ? undefined : link.mtu;
  return { index, ends: [withPort(a, b), withPort(b, a)], mtu };
}

function layOutAddresses(spec: LabSpec): Map<string, PlacedAddress[]> {
  const byNode = new Map<string, PlacedAddress[]>();
  for (const [node, nodeSpec] of Object.entries(spec.nodes)) {
    const placed: PlacedAddress[] = [];
    byNode.set(node, placed);
    for (const section of ['interfaces', 'bridges'] as const) {
      const devices: Record<string, { addresses?: string[] }> = nodeSpec[section] ?? {};
      for (const [device, settings] of Object.entries(devices)) {
        (settings.addresses ?? []).forEach((text, i) => {
          placed.push({ node, section, device, text, path: ['nodes', node, section, device, 'addresses', i], parsed: parseCidr(text) });
        });
      }
    }
  }
  return byNode;
}

function layOutRoutes(spec: LabSpec): Map<string, PlacedRoute[]> {
  const byNode = new Map<string, PlacedRoute[]>();
  for (const [node, nodeSpec] of Object.entries(spec.nodes)) {
    const placed = (nodeSpec.routes ?? []).map((route, i): PlacedRoute => {
      const to = route.to === 'default' ? 'default' : parseCidr(route.to);
      const via = route.via === undefined ? undefined : parseIp(route.via);
      const src = route.src === undefined ? undefined : parseIp(route.src);
      const table = tableNumber(route.table, nodeSpec.tables);
      return {
        route,
        path: ['nodes', node, 'routes', i],
        to,
        ...(via ? { via } : {}),
        ...(route.nexthops ? { nexthops: route.nexthops.map((h) => parseIp(h.via)) } : {}),
        ...(src ? { src } : {}),
        ...(typeof table === 'number' ? { table } : {}),
      };
    });
    byNode.set(node, placed);
  }
  return byNode;
}

export function layOut(spec: LabSpec): Layout {
  return {
    links: (spec.links ?? []).map((link, index) => layOutLink(spec, link, index)),
    addresses: layOutAddresses(spec),
    routes: layOutRoutes(spec),
  };
}
