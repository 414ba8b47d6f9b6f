// A route in the main table, read from `ip -j route` and set with `ip route replace`.
import { canonicalDestination, canonicalIp, subnetContains } from '../model/ip.js';
import { ROUTE_PROTOCOL } from '../model/names.js';
import { defaultMetric, routeKey, type Family, type NodeState, type RouteState } from '../model/types.js';
import type { ChangeBase, LinkFate, NodeDiff, NodeResource } from './resource.js';

export type RouteChange = ChangeBase & { kind: 'route'; route: RouteState };

/** A route as a person reads it (plan, status, graph, export): the metric only where it is not the family's default. */
export function describeRoute(r: RouteState): string {
  const parts = [r.to === 'default' && r.family === 6 ? 'default (IPv6)' : r.to];
  if (r.via) parts.push(`via ${r.via}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.metric !== defaultMetric(r.family)) parts.push(`metric ${r.metric}`);
  return parts.join(' ');
}

/** IPv6 default routes are written ::/0 so that the family is plain even without a gateway. */
function destination(route: RouteState): string {
  return route.to === 'default' && route.family === 6 ? '::/0' : route.to;
}

export function routeArgs(route: RouteState): string {
  const parts = [destination(route)];
  if (route.via) parts.push('via', route.via);
  if (route.dev) parts.push('dev', route.dev);
  parts.push('metric', String(route.metric));
  return parts.join(' ');
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
}

/**
 * Routes the lab may own: the main table, minus what the kernel derives from addresses and links
 * (protocol kernel) and IPv6 multicast/link-local housekeeping.
 */
export function isLabRoute(route: IpRouteJson): boolean {
  if (route.table !== undefined && route.table !== 'main') return false;
  if (route.protocol === 'kernel') return false;
  if (route.type !== undefined && route.type !== 'unicast') return false;
  return true;
}

/** `ip -j route` prints a host route's destination bare ("10.9.9.9"), without its /32 or /128. */
function withHostLength(dst: string, family: Family): string {
  return dst === 'default' || dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

export function parseRoute(route: IpRouteJson, family: Family): RouteState {
  return {
    family,
    protocol: route.protocol ?? 'boot',
    to: canonicalDestination(withHostLength(route.dst, family)),
    via: route.gateway ? canonicalIp(route.gateway) : undefined,
    dev: route.dev,
    metric: route.metric ?? 0,
  };
}

function sameRoute(want: RouteState, have: RouteState): boolean {
  return want.via === have.via && (want.dev === undefined || want.dev === have.dev);
}

/** Whether the link changes take the route away from under it: its link goes, or its gateway's subnet. */
function isDisturbed(route: RouteState, links: LinkFate): boolean {
  if (route.dev && links.gone.has(route.dev)) return true;
  const via = route.via;
  return via !== undefined && links.deletedAddresses.some((cidr) => subnetContains(cidr, via));
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
    { tool: 'ip', line: c.action === 'delete' ? `route del ${routeArgs(c.route)}` : `route replace ${routeArgs(c.route)} proto ${c.route.protocol ?? ROUTE_PROTOCOL}` },
  ],
  summary: (c) => `route on ${c.node}: ${routeArgs(c.route)}`,
  waitsForBeforeUp: true,
  dependsOn(c, index) {
    const d = c.action === 'delete' ? [] : index.sameNode(c, (o) => ['veth', 'bridge', 'settings', 'address'].includes(o.kind) || (o.kind === 'route' && o.action === 'delete'));
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
      if (want.routes.has(key) || (route.dev && n.links.gone.has(route.dev))) continue;
      n.emit({ ...base, action: 'delete', route, reason: `route ${describeRoute(route)} is not in the file` });
    }
  },
};
