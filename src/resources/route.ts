// A route in the main table, read from `ip -j route` and set with `ip route replace`.
import { canonicalDestination, canonicalIp, subnetContains } from '../model/ip.js';
import { ROUTE_PROTOCOL } from '../model/names.js';
import { defaultMetric, routeKey, type Family, type Nexthop, type NodeState, type RouteState, type RouteType } from '../model/types.js';
import type { ChangeBase, LinkFate, NodeDiff, NodeResource } from './resource.js';

export type RouteChange = ChangeBase & { kind: 'route'; route: RouteState };

/** A route as a person reads it (plan, status, graph, export): the metric only where it is not the family's default. */
export function describeRoute(r: RouteState): string {
  const parts = [r.to === 'default' && r.family === 6 ? 'default (IPv6)' : r.to];
  if (r.type) parts.unshift(r.type);
  if (r.via) parts.push(`via ${r.via}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  for (const hop of r.nexthops ?? []) parts.push(`nexthop via ${hop.via}${hop.dev ? ` dev ${hop.dev}` : ''} weight ${hop.weight}`);
  if (r.onlink) parts.push('onlink');
  if (r.src) parts.push(`src ${r.src}`);
  if (r.table !== undefined) parts.push(`table ${r.table}`);
  if (r.metric !== defaultMetric(r.family)) parts.push(`metric ${r.metric}`);
  return parts.join(' ');
}

/** IPv6 default routes are written ::/0 so that the family is plain even without a gateway. */
function destination(route: RouteState): string {
  return route.to === 'default' && route.family === 6 ? '::/0' : route.to;
}

/** The route's words for `ip route`, up to the metric; a multipath route's nexthops come last (routeCommand). */
export function routeArgs(route: RouteState): string {
  const parts = [...(route.type ? [route.type] : []), destination(route)];
  if (route.table !== undefined) parts.push('table', String(route.table));
  if (route.via) parts.push('via', route.via);
  if (route.dev) parts.push('dev', route.dev);
  if (route.onlink) parts.push('onlink');
  if (route.src) parts.push('src', route.src);
  parts.push('metric', String(route.metric));
  return parts.join(' ');
}

/** `ip route replace`: after `proto` ip takes nothing but the nexthops. */
function routeCommand(route: RouteState): string {
  const hops = (route.nexthops ?? []).map((h) => ` nexthop via ${h.via}${h.dev ? ` dev ${h.dev}` : ''} weight ${h.weight}`).join('');
  return `route replace ${routeArgs(route)} proto ${route.protocol ?? ROUTE_PROTOCOL}${hops}`;
}

/** The fields of `ip -j route show` that netlab reads. */
export interface IpRouteJson {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  table?: string;
  scope?: string;
  prefsrc?: string;
  flags?: string[];
  nexthops?: Array<{ gateway?: string; dev?: string; weight?: number }>;
}

const LAB_TYPES: ReadonlySet<string> = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw']);

/** Protocols of the routes the kernel makes itself: from addresses and links, router advertisements, ICMP redirects. */
const KERNEL_PROTOCOLS: ReadonlySet<string> = new Set(['kernel', 'ra', 'redirect']);

/**
 * Routes the lab may own: the main table and numbered ones, minus what the kernel makes itself
 * (KERNEL_PROTOCOLS: learned, not drift) and its local, broadcast and multicast housekeeping.
 */
export function isLabRoute(route: IpRouteJson): boolean {
  if (route.table !== undefined && route.table !== 'main' && !/^\d+$/.test(route.table)) return false;
  if (route.protocol !== undefined && KERNEL_PROTOCOLS.has(route.protocol)) return false;
  return route.type === undefined || LAB_TYPES.has(route.type);
}

/** `ip -j route` prints a host route's destination bare ("10.9.9.9"), without its /32 or /128. */
function withHostLength(dst: string, family: Family): string {
  return dst === 'default' || dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

export function parseRoute(route: IpRouteJson, family: Family): RouteState {
  const type = route.type !== undefined && route.type !== 'unicast' ? (route.type as RouteType) : undefined;
  const parsed: RouteState = {
    family,
    protocol: route.protocol ?? 'boot',
    to: canonicalDestination(withHostLength(route.dst, family)),
    via: route.gateway ? canonicalIp(route.gateway) : undefined,
    // An IPv6 blackhole names lo as its device: it has none.
    dev: type ? undefined : route.dev,
    metric: route.metric ?? 0,
  };
  if (route.table !== undefined && route.table !== 'main') parsed.table = Number(route.table);
  if (type) parsed.type = type;
  if (route.nexthops) parsed.nexthops = route.nexthops.map((h) => ({ via: h.gateway ? canonicalIp(h.gateway) : '', ...(h.dev ? { dev: h.dev } : {}), weight: h.weight ?? 1 }));
  if (route.flags?.includes('onlink')) parsed.onlink = true;
  if (route.prefsrc) parsed.src = canonicalIp(route.prefsrc);
  return parsed;
}

function sameNexthops(want: readonly Nexthop[] | undefined, have: readonly Nexthop[] | undefined): boolean {
  if (!want || !have) return want === have;
  const text = (hops: readonly Nexthop[], devs: boolean) => hops.map((h) => `${h.via}/${devs ? (h.dev ?? '') : ''}/${h.weight}`).sort().join(' ');
  const devs = want.every((h) => h.dev !== undefined);
  return text(want, devs) === text(have, devs);
}

/** What the file says of the route, the kernel has; a device the file leaves out is the kernel's to choose. */
function sameRoute(want: RouteState, have: RouteState): boolean {
  return (
    want.via === have.via &&
    (want.dev === undefined || want.dev === have.dev) &&
    want.type === have.type &&
    sameNexthops(want.nexthops, have.nexthops) &&
    (want.onlink ?? false) === (have.onlink ?? false) &&
    want.src === have.src
  );
}

/** Whether the link changes take the route away from under it: its link goes, or its gateway's subnet. */
function isDisturbed(route: RouteState, links: LinkFate): boolean {
  const paths = [{ via: route.via, dev: route.dev }, ...(route.nexthops ?? [])];
  return paths.some(({ via, dev }) => (dev !== undefined && links.gone.has(dev)) || (via !== undefined && via !== '' && !route.onlink && links.deletedAddresses.some((cidr) => subnetContains(cidr, via))));
}

/**
 * The kernel flushes every IPv4 route through an interface when its last IPv4 address goes. When
 * the lab takes its address off an interface that is not its own and that was the last one, the
 * machine's routes through it are put back as they were (same protocol), after the delete.
 */
export function restoreFlushedRoutes(have: NodeState, view: NodeState, deletedAddresses: ReadonlyArray<{ dev: string; cidr: string }>, emit: NodeDiff['emit']): void {
  const deleted = new Map<string, Set<string>>();
  for (const { dev, cidr } of deletedAddresses) if (!cidr.includes(':')) deleted.set(dev, (deleted.get(dev) ?? new Set()).add(cidr));
  for (const [dev, gone] of deleted) {
    const left = (have.links.get(dev)?.addresses ?? []).filter((a) => !a.includes(':') && !gone.has(a));
    if (left.length > 0) continue;
    for (const [key, route] of have.routes) {
      if (route.family !== 4 || route.dev !== dev || view.routes.has(key)) continue;
      emit({ node: have.node, netns: have.netns, kind: 'route', action: 'create', id: `route/${have.node}/${key}/restore`, route, reason: `not the lab's: the kernel drops it with ${dev}'s last address, so it is put back` });
    }
  }
}

export const routeResource: NodeResource<RouteChange> = {
  kind: 'route',
  plural: 'routes',
  id: (c) => `route/${c.node}/${routeKey(c.route)}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => [
    { tool: 'ip', line: c.action === 'delete' ? `route del ${routeArgs(c.route)}` : routeCommand(c.route) },
  ],
  summary: (c) => `route on ${c.node}: ${routeArgs(c.route)}${(c.route.nexthops ?? []).map((h) => ` nexthop via ${h.via} weight ${h.weight}`).join('')}`,
  waitsForBeforeUp: true,
  dependsOn(c, index) {
    const d = c.action === 'delete' ? [] : index.sameNode(c, (o) => ['veth', 'bridge', 'virtual', 'settings', 'address'].includes(o.kind) || (o.kind === 'route' && o.action === 'delete'));
    // A veth made from the other end's node is a dependency here too.
    return [...d, ...index.vethsInto(c.node)];
  },

  diff(n: NodeDiff) {
    const { want, current } = n;
    const base = { node: want.node, netns: want.netns, kind: 'route' as const };
    for (const key of [...want.routes.keys()].sort()) {
      const route = want.routes.get(key)!;
      const have = current.routes.get(key);
      if (have && sameRoute(route, have) && !isDisturbed(have, n.links)) continue;
      const reason = !have
        ? `route ${describeRoute(route)} missing`
        : sameRoute(route, have)
          ? `route ${describeRoute(route)} goes with the link or address changed under it; set again`
          : `route ${describeRoute(have)} → ${describeRoute(route)}`;
      n.emit({ ...base, action: have ? 'update' : 'create', route, reason });
    }
    for (const key of [...current.routes.keys()].sort()) {
      const route = current.routes.get(key)!;
      // A route through a link being deleted goes with it.
      if (want.routes.has(key) || (route.dev && n.links.gone.has(route.dev)) || (route.nexthops?.length && route.nexthops.every((h) => h.dev && n.links.gone.has(h.dev)))) continue;
      n.emit({ ...base, action: 'delete', route, reason: `route ${describeRoute(route)} is not in the file` });
    }
  },
};
