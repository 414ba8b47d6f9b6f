// Routes: destination and gateway well formed and of one family, the gateway reachable, the
// device one the node has, no route declared twice (in one table); its other keys: route-kinds.ts.
import { contains, familyName, hasHostBits, isLinkLocal6, maxLength, parseIp, subnetText, type Cidr, type CidrResult, type Ip } from '../../model/ip.js';
import { kindOf } from '../../model/spec.js';
import { defaultMetric } from '../../model/types.js';
import type { Path } from '../problem.js';
import { didYouMean } from '../text.js';
import { addressesOf, type NodeAddresses } from './addresses.js';
import { deviceList, devicesOf, lineOf, nodeEntries, report, type Ctx } from './context.js';
import { checkRouteKinds, checkTables, needsNextHop } from './route-kinds.js';

export function checkRoutes(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    checkTables(ctx, name, node);
    const addresses = addressesOf(ctx, name);
    const devices = devicesOf(ctx, name, node);
    const declared = new Map<string, Path>();
    for (const placed of ctx.layout.routes.get(name) ?? []) {
      const { route, path } = placed;
      const to = checkRouteDestination(ctx, route.to, placed.to, [...path, 'to']);
      const via = route.via === undefined ? undefined : checkGatewayText(ctx, route.via, placed.via, [...path, 'via']);
      if (route.via === undefined && route.dev === undefined && needsNextHop(placed)) {
        report(ctx, path, `route to ${route.to} has neither via nor dev`, 'add via: GATEWAY or dev: IFNAME');
      }
      if (route.dev !== undefined && kindOf(node) === 'netns' && !devices.has(route.dev)) {
        report(
          ctx,
          [...path, 'dev'],
          `dev ${route.dev} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`,
          `name one of them, or add a link that creates ${name}:${route.dev}${didYouMean(route.dev, [...devices])}`,
        );
      }
      if (route.via !== undefined && route.dev === 'lo') {
        report(
          ctx,
          [...path, 'dev'],
          `route to ${route.to} goes via ${route.via} out of lo, which reaches no other host`,
          'name the interface toward the gateway, or leave dev out and the kernel finds it from via',
        );
      }
      if (to === null || via === null) continue;
      const family = to?.ip.family ?? via?.family ?? placed.nexthops?.find((h) => h)?.family ?? 4;
      checkRouteKinds(ctx, name, node, placed, family, addresses, devices, (ip, hasDev, at) => checkGatewayReach(ctx, name, addresses, ip, hasDev, at));
      if (via && to && via.family !== to.ip.family) {
        report(
          ctx,
          [...path, 'via'],
          `route to ${route.to} is ${familyName(to.ip.family)} but its gateway ${route.via} is ${familyName(via.family)}`,
          'use a gateway of the same family',
        );
        continue;
      }
      // onlink: the gateway is on the link because the file says so, whatever the addresses say.
      if (via && kindOf(node) === 'netns' && !route.onlink) checkGatewayReach(ctx, name, addresses, via, route.dev !== undefined, [...path, 'via']);
      // 0.0.0.0/0 and ::/0 are the default route to the kernel.
      const key = `${family} ${placed.table ?? 'main'} ${to && to.length > 0 ? subnetText(to) : 'default'} ${route.metric ?? defaultMetric(family)}`;
      const first = declared.get(key);
      if (first) {
        report(
          ctx,
          [...path, 'to'],
          `route to ${route.to} (${familyName(family)}, ${placed.table === undefined ? '' : `table ${placed.table}, `}metric ${route.metric ?? defaultMetric(family)}) is declared twice in node ${name} (first at line ${lineOf(ctx, first)})`,
          'remove one, or give them different metrics',
        );
      } else declared.set(key, [...path, 'to']);
    }
  }
}

/** undefined for default, the destination when valid, null after reporting a problem. */
function checkRouteDestination(ctx: Ctx, to: string, parsed: 'default' | CidrResult, path: Path): Cidr | undefined | null {
  if (parsed === 'default') return undefined;
  if ('cidr' in parsed) {
    if (!hasHostBits(parsed.cidr)) return parsed.cidr;
    report(ctx, path, `${to} has host bits set`, `did you mean ${subnetText(parsed.cidr)}?`);
    return null;
  }
  if (parsed.problem === 'no-length' && parsed.ip) {
    report(
      ctx,
      path,
      `route destination ${to} has no prefix length`,
      `e.g. ${to}/${maxLength(parsed.ip.family)} for one host, or a network such as ${parsed.ip.family === 4 ? '10.9.0.0/16' : '2001:db8:9::/48'}`,
    );
  } else if (parsed.problem === 'bad-length') {
    report(
      ctx,
      path,
      `route destination ${to} has a prefix length out of range for ${familyName(parsed.ip.family)}`,
      `use /0 to /${maxLength(parsed.ip.family)}`,
    );
  } else {
    report(ctx, path, `route destination ${JSON.stringify(to)} is neither default nor a CIDR`, 'e.g. to: default or to: 10.9.0.0/16');
  }
  return null;
}

function checkGatewayText(ctx: Ctx, via: string, ip: Ip | undefined, path: Path): Ip | null {
  if (ip) return ip;
  const slash = via.indexOf('/');
  if (slash >= 0 && parseIp(via.slice(0, slash))) {
    report(ctx, path, `gateway ${via} has a prefix length`, `a gateway is one address: via: ${via.slice(0, slash)}`);
  } else {
    report(ctx, path, `gateway ${JSON.stringify(via)} is not an IP address`, 'e.g. via: 172.18.0.1');
  }
  return null;
}

/** The kernel only accepts a gateway it can reach directly: on a subnet of the node, not itself. */
function checkGatewayReach(ctx: Ctx, name: string, addresses: NodeAddresses, via: Ip, hasDev: boolean, path: Path): void {
  if (isLinkLocal6(via)) {
    if (!hasDev) report(ctx, path, `gateway ${via.text} is link-local, so the route needs an interface`, 'add dev: IFNAME');
    return;
  }
  if (addresses.own.has(via.text)) {
    report(ctx, path, `gateway ${via.text} is an address of node ${name} itself`, 'via must be another host on a connected subnet');
    return;
  }
  const sameFamily = addresses.cidrs.filter((c) => c.ip.family === via.family);
  const on = sameFamily.filter((c) => contains(c, via));
  if (on.length > 0) {
    // A host on any one of the node's subnets that hold it will do.
    const reasons = on.map((c) => notAHost(c, via));
    if (reasons.every((why) => why !== undefined)) report(ctx, path, `gateway ${via.text} is ${reasons[0]}, not a host`, 'via must be the address of the next router on that subnet');
    return;
  }
  const subnets = [...new Set(sameFamily.map(subnetText))];
  const has = subnets.length > 0 ? `its subnets: ${subnets.join(', ')}` : `it has no ${familyName(via.family)} address`;
  report(
    ctx,
    path,
    `gateway ${via.text} is on no connected subnet of node ${name} (${has})`,
    'add an address in that subnet or correct via',
  );
}

/**
 * On an IPv4 subnet of /30 or wider, the first address names the subnet and the last is its
 * broadcast: the kernel refuses the broadcast as a gateway, and no router answers for either.
 */
function notAHost(subnet: Cidr, ip: Ip): string | undefined {
  if (ip.family !== 4 || subnet.length > 30) return undefined;
  const hostBits = 32 - subnet.length;
  const value = ip.bytes.reduce((n, b) => n * 256 + b, 0);
  const host = value % 2 ** hostBits;
  if (host === 0) return `the network address of ${subnetText(subnet)}`;
  if (host === 2 ** hostBits - 1) return `the broadcast address of ${subnetText(subnet)}`;
  return undefined;
}
