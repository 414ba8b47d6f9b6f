// IPv6 on a node as a whole: what the kernel needs for the node's IPv6 addresses to exist at all
// (an MTU of 1280 or more, IPv6 not disabled by a sysctl), and what `ipv6: false` costs a router.
import { kindOf } from '../../model/spec.js';
import type { Path } from '../problem.js';
import type { NodeSpec } from '../spec.js';
import { lineOf, nodeEntries, own, report, warn, type Ctx } from './context.js';

/** The least MTU the kernel keeps IPv6 on a link for (RFC 8200); below it the link has none. */
export const IPV6_MIN_MTU = 1280;

interface Ipv6Address {
  text: string;
  path: Path;
}

/** Per device (interface or bridge) of a node, its valid IPv6 addresses (checkAddresses reports the rest). */
function ipv6AddressesOf(ctx: Ctx, name: string): Map<string, Ipv6Address[]> {
  const byDevice = new Map<string, Ipv6Address[]>();
  for (const { device, text, path, parsed } of ctx.layout.addresses.get(name) ?? []) {
    if (!('cidr' in parsed) || parsed.cidr.ip.family !== 6) continue;
    byDevice.set(device, [...(byDevice.get(device) ?? []), { text, path }]);
  }
  return byDevice;
}

export function checkIpv6(ctx: Ctx): void {
  const mtuOfLinks = linkMtus(ctx);
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const addresses = ipv6AddressesOf(ctx, name);
    checkMtus(ctx, name, node, addresses, mtuOfLinks);
    checkDisabled(ctx, name, node, addresses);
  }
  checkRoutersWithoutLinkLocal(ctx);
}

/** "node\0ifname" → the mtu a long-form link gives that end, and where. */
function linkMtus(ctx: Ctx): Map<string, { mtu: number; path: Path }> {
  const mtus = new Map<string, { mtu: number; path: Path }>();
  for (const { index, ends, mtu } of ctx.topology.links) {
    if (mtu === undefined) continue;
    for (const end of ends) {
      if (end.bridge === undefined) mtus.set(`${end.node}\0${end.ifname}`, { mtu, path: ['links', index, 'mtu'] });
    }
  }
  return mtus;
}

/** A link below 1280 bytes has no IPv6: adding an IPv6 address to it fails in the middle of apply. */
function checkMtus(ctx: Ctx, name: string, node: NodeSpec, addresses: Map<string, Ipv6Address[]>, mtuOfLinks: Map<string, { mtu: number; path: Path }>): void {
  for (const [device, list] of addresses) {
    const bridge = own(node.bridges, device);
    const iface = own(node.interfaces, device);
    const set =
      bridge?.mtu !== undefined
        ? { mtu: bridge.mtu, path: ['nodes', name, 'bridges', device, 'mtu'] }
        : iface?.mtu !== undefined
          ? { mtu: iface.mtu, path: ['nodes', name, 'interfaces', device, 'mtu'] }
          : mtuOfLinks.get(`${name}\0${device}`);
    if (set === undefined || set.mtu >= IPV6_MIN_MTU) continue;
    report(
      ctx,
      set.path,
      `mtu ${set.mtu} of ${name}:${device} is below ${IPV6_MIN_MTU}, and ${device} has IPv6 address ${list[0]!.text}${elsewhere(ctx, set.path, list[0]!.path)}`,
      `the kernel keeps no IPv6 on a link below ${IPV6_MIN_MTU} bytes: use mtu ${IPV6_MIN_MTU} or more, or an IPv4 address only`,
    );
  }
}

/** " (line N)" for the other value a message names, when it is on another line. */
function elsewhere(ctx: Ctx, here: Path, there: Path): string {
  const line = lineOf(ctx, there);
  return line === lineOf(ctx, here) ? '' : ` (line ${line})`;
}

/** A sysctl value the kernel reads as "on": anything but 0. */
function isOn(value: string | number | boolean): boolean {
  return !(value === false || value === 0 || (typeof value === 'string' && value.trim() === '0'));
}

/**
 * net.ipv6.conf.{all,IF}.disable_ipv6 takes IPv6 off the node's links, and then its IPv6
 * addresses cannot be added. `default` is what a link gets when it is made, which in a node of
 * its own is after the sysctls: its bridges.
 */
function checkDisabled(ctx: Ctx, name: string, node: NodeSpec, addresses: Map<string, Ipv6Address[]>): void {
  for (const [key, value] of Object.entries(node.sysctls ?? {})) {
    const scope = /^net\.ipv6\.conf\.([^.]+)\.disable_ipv6$/.exec(key)?.[1];
    if (scope === undefined || !isOn(value)) continue;
    const hit = [...addresses].find(([device]) => {
      if (scope === 'all') return true;
      if (scope === 'default') return kindOf(node) === 'netns' && own(node.bridges, device) !== undefined;
      return scope.replace(/\//g, '.') === device;
    });
    if (!hit) continue;
    const [device, list] = hit;
    report(
      ctx,
      ['nodes', name, 'sysctls', key],
      `sysctl ${key} turns IPv6 off on ${name}:${device}, which has IPv6 address ${list[0]!.text}${elsewhere(ctx, ['nodes', name, 'sysctls', key], list[0]!.path)}`,
      'remove the sysctl (or set it to 0), or the IPv6 addresses',
    );
  }
}

/** A node that forwards IPv6, by its own sysctls: all.forwarding or an interface's. */
function forwardingKey(node: NodeSpec): string | undefined {
  return Object.entries(node.sysctls ?? {}).find(([key, value]) => /^net\.ipv6\.conf\.[^.]+\.forwarding$/.test(key) && !key.includes('.default.') && isOn(value))?.[0];
}

/**
 * With `ipv6: false` the lab's links have no link-local address, and a router sends the neighbour
 * solicitation for a packet it forwards only from the outgoing link's link-local address: IPv6
 * through it never gets past the first hop. Said, not refused: a lab may mean IPv6 on one segment.
 */
function checkRoutersWithoutLinkLocal(ctx: Ctx): void {
  if (ctx.spec.ipv6 !== false) return;
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const key = forwardingKey(node);
    if (key === undefined || ipv6AddressesOf(ctx, name).size === 0) continue;
    warn(
      ctx,
      ['ipv6'],
      `ipv6: false leaves the lab's links without link-local addresses, so node ${name} (${key}: ${String(node.sysctls![key])}) cannot forward IPv6: the kernel solicits the next hop of a forwarded packet only from a link-local address`,
      'remove ipv6: false (a file with IPv6 addresses has link-local addresses by default); IPv6 between neighbours on one segment works either way',
    );
  }
}
