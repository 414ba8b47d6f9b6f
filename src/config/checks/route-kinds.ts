// What a route says beyond a gateway and a device: its table, its type, its nexthops, onlink and
// src, each consistent with the rest of the route and with the node.
import { familyName, parseIp, type Ip } from '../../model/ip.js';
import type { PlacedRoute } from '../../model/layout.js';
import { kindOf, type NodeSpec } from '../../model/spec.js';
import type { Path } from '../problem.js';
import { didYouMean } from '../text.js';
import type { NodeAddresses } from './addresses.js';
import { deviceList, report, type Ctx } from './context.js';

/** Names the kernel gives tables itself: a file's name for one of them would read two ways. */
const KERNEL_TABLES: Readonly<Record<string, number>> = { default: 253, main: 254, local: 255 };

export function checkTables(ctx: Ctx, name: string, node: NodeSpec): void {
  for (const [table, number] of Object.entries(node.tables ?? {})) {
    if (Object.hasOwn(KERNEL_TABLES, table)) {
      report(ctx, ['nodes', name, 'tables', table], `table name ${table} is the kernel's own (table ${KERNEL_TABLES[table]})`, 'choose another name', 'key');
    } else if (number === KERNEL_TABLES.local) {
      report(ctx, ['nodes', name, 'tables', table], `table ${number} is the kernel's local table`, 'choose a number from 1 to 252, or above 255');
    }
  }
}

/** Whether the route carries its own gateway or device (then it needs one of them), or needs none. */
export function needsNextHop(placed: PlacedRoute): boolean {
  const { route } = placed;
  return (route.type === undefined || route.type === 'unicast') && route.nexthops === undefined;
}

type CheckGateway = (via: Ip, hasDev: boolean, path: Path) => void;

export function checkRouteKinds(ctx: Ctx, name: string, node: NodeSpec, placed: PlacedRoute, family: 4 | 6, addresses: NodeAddresses, devices: Set<string>, checkGateway: CheckGateway): void {
  const { route, path } = placed;
  if (route.table !== undefined && typeof route.table === 'string' && placed.table === undefined && route.table !== 'main') {
    const names = Object.keys(node.tables ?? {});
    report(ctx, [...path, 'table'], `table ${route.table} is not a table of node ${name} (${names.length ? `its tables: ${names.join(', ')}` : 'it names none'})`, `name it under tables: (tables: {${route.table}: 100}), or write its number${didYouMean(route.table, names)}`);
  }
  if (placed.table === KERNEL_TABLES.local) report(ctx, [...path, 'table'], `table ${placed.table} is the kernel's local table`, 'use another table');
  if (route.type !== undefined && route.type !== 'unicast') {
    const extra = (['via', 'dev', 'nexthops', 'onlink'] as const).filter((k) => route[k] !== undefined);
    if (extra.length > 0) report(ctx, [...path, extra[0]!], `a ${route.type} route to ${route.to} handles the packet itself: it takes no ${extra.join(', ')}`, `remove ${extra.join(', ')}, or make it a unicast route`);
  }
  if (route.nexthops) {
    const own = (['via', 'dev'] as const).filter((k) => route[k] !== undefined);
    if (own.length > 0) report(ctx, [...path, own[0]!], `route to ${route.to} has nexthops and a ${own.join(' and ')} of its own`, 'give each nexthop its via (and dev), and the route none');
    route.nexthops.forEach((hop, i) => {
      const hopPath = [...path, 'nexthops', i];
      const via = placed.nexthops?.[i];
      if (!via) return report(ctx, [...hopPath, 'via'], `gateway ${JSON.stringify(hop.via)} is not an IP address`, 'e.g. via: 192.0.2.254');
      if (via.family !== family) return report(ctx, [...hopPath, 'via'], `route to ${route.to} is ${familyName(family)} but its nexthop ${hop.via} is ${familyName(via.family)}`, 'use a gateway of the same family');
      if (hop.dev !== undefined && kindOf(node) === 'netns' && !devices.has(hop.dev)) {
        report(ctx, [...hopPath, 'dev'], `dev ${hop.dev} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`, `name one of them${didYouMean(hop.dev, [...devices])}`);
      }
      if (kindOf(node) === 'netns') checkGateway(via, hop.dev !== undefined, [...hopPath, 'via']);
    });
  }
  if (route.onlink && route.dev === undefined && route.nexthops === undefined) report(ctx, [...path, 'onlink'], `route to ${route.to} is onlink but names no dev`, 'add dev: the interface the gateway is on');
  if (route.onlink && route.nexthops) report(ctx, [...path, 'onlink'], `onlink is for a route with a via and a dev of its own, not for nexthops`, 'remove onlink, or write one gateway');
  if (route.src !== undefined) {
    const src = placed.src ?? parseIp(route.src);
    if (!src) report(ctx, [...path, 'src'], `src ${JSON.stringify(route.src)} is not an IP address`, 'e.g. src: 198.51.100.1');
    else if (src.family !== family) report(ctx, [...path, 'src'], `route to ${route.to} is ${familyName(family)} but its src ${route.src} is ${familyName(src.family)}`, 'use a source of the same family');
    else if (kindOf(node) === 'netns' && !addresses.own.has(src.text)) {
      report(ctx, [...path, 'src'], `src ${src.text} is not an address of node ${name}`, 'the kernel takes only one of the node\'s own addresses as a source');
    }
  }
}
