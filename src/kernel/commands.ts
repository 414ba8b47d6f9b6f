// Change → the kernel commands that carry it out: `ip -batch` lines, sysctl assignments, file
// writes. Pure. Every value here was validated, so lines are rendered, never escaped or quoted.
import { ownerMark, ROUTE_PROTOCOL } from '../model/names.js';
import { nftReplaceScript } from '../model/nft.js';
import type { RouteState } from '../model/types.js';
import type { Change, LinkSettings } from '../plan/change.js';
import { ETC_NETNS } from './paths.js';

/** Where a change's commands run: which tool, and in which namespace (null: the root namespace). */
export interface Scope {
  tool: 'ip' | 'sysctl' | 'file' | 'nft' | 'mount' | 'proc';
  netns: string | null;
}

export type Command =
  | { tool: 'ip'; line: string }
  | { tool: 'sysctl'; assignment: string }
  | { tool: 'nft'; script: string }
  | { tool: 'mount'; op: 'publish'; source: string; netns: string; node: string }
  | { tool: 'mount'; op: 'unpublish'; netns: string }
  | { tool: 'proc'; op: 'start'; node: string; key: string; argv: string[] }
  | { tool: 'proc'; op: 'stop'; node: string; key: string }
  | { tool: 'proc'; op: 'evict'; netns: string }
  | { tool: 'file'; op: 'write'; path: string; content: string }
  | { tool: 'file'; op: 'remove'; path: string };

export function scopeKey(scope: Scope): string {
  return `${scope.tool}@${scope.netns ?? ''}`;
}

export function scopeOf(change: Change): Scope {
  switch (change.kind) {
    case 'netns':
    case 'veth':
      return { tool: 'ip', netns: null };
    case 'publish':
      return { tool: 'mount', netns: null };
    case 'run':
    case 'evict':
      return { tool: 'proc', netns: null };
    case 'sysctl':
      return { tool: 'sysctl', netns: change.netns };
    case 'dns':
      return { tool: 'file', netns: change.netns };
    case 'nftables':
      return { tool: 'nft', netns: change.netns };
    default:
      return { tool: 'ip', netns: change.netns };
  }
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

/** `netns X` places a veth end in a namespace; without it the end stays where ip runs: the root. */
function placeIn(netns: string | null): string {
  return netns === null ? '' : ` netns ${netns}`;
}

function settingsLines(name: string, set: LinkSettings, update: boolean): string[] {
  const lines: string[] = [];
  // Before `up`, which would start the address's duplicate detection and solicitations; on a link
  // that has one already, that address goes too (a lab's own addresses are never scope link).
  if (set.linkLocal === false) lines.push(`link set dev ${name} addrgenmode none`, ...(update ? [`addr flush dev ${name} scope link`] : []));
  const args: string[] = [];
  if (set.mtu !== undefined) args.push('mtu', String(set.mtu));
  if (set.mac !== undefined) args.push('address', set.mac);
  if (set.master !== undefined) args.push(...(set.master === null ? ['nomaster'] : ['master', set.master]));
  if (set.alias !== undefined) args.push('alias', set.alias);
  if (set.stp !== undefined) lines.push(`link set dev ${name} type bridge stp_state ${set.stp ? 1 : 0}`);
  if (set.up !== undefined) args.push(set.up ? 'up' : 'down');
  if (args.length > 0) lines.push(`link set dev ${name} ${args.join(' ')}`);
  return lines;
}

/** A run command as root with `sh -c`, inside the node's namespace as `ip netns exec` enters it (resolv.conf included). */
export function runArgv(netns: string | null, command: string): string[] {
  return netns === null ? ['sh', '-c', command] : ['ip', 'netns', 'exec', netns, 'sh', '-c', command];
}

export function resolvConfPath(netns: string | null): string {
  return `${ETC_NETNS}/${netns}/resolv.conf`;
}

export function commandsOf(change: Change): Command[] {
  const ip = (line: string): Command => ({ tool: 'ip', line });
  switch (change.kind) {
    case 'netns': {
      if (change.action === 'delete') return [ip(`netns del ${change.netns}`)];
      // A file left by a run killed inside `ip netns add` goes first (netns del unlinks it).
      const add = [...(change.stale ? [ip(`netns del ${change.netns}`)] : []), ip(`netns add ${change.netns}`)];
      // The id is set by the same process, so no kill of netlab can leave the namespace without it.
      return change.nsid === undefined ? add : [...add, ip(`netns set ${change.netns} ${change.nsid}`)];
    }
    case 'publish':
      return [change.action === 'delete' ? { tool: 'mount', op: 'unpublish', netns: change.netns! } : { tool: 'mount', op: 'publish', source: change.source, netns: change.netns!, node: change.node }];
    case 'loopback':
      return [ip('link set dev lo up'), ip(`link set dev lo alias ${ownerMark(change.lab)}`)];
    case 'veth':
      return [ip(`link add ${change.name}${placeIn(change.netns)} type veth peer name ${change.peer.name}${placeIn(change.peer.netns)}`)];
    case 'bridge':
      return [ip(`link add ${change.name} type bridge`)];
    case 'link-delete':
      return [ip(`link del dev ${change.name}`)];
    case 'settings':
      return settingsLines(change.name, change.set, change.action === 'update').map(ip);
    case 'address': {
      // nodad: a lab's IPv6 addresses answer at once instead of after duplicate detection; the
      // file's addresses are checked for duplicates per segment by validation.
      const nodad = change.cidr.includes(':') ? ' nodad' : '';
      return [ip(change.action === 'delete' ? `addr del ${change.cidr} dev ${change.dev}` : `addr replace ${change.cidr} dev ${change.dev}${nodad}`)];
    }
    case 'route':
      return [ip(change.action === 'delete' ? `route del ${routeArgs(change.route)}` : `route replace ${routeArgs(change.route)} proto ${change.route.protocol ?? ROUTE_PROTOCOL}`)];
    case 'sysctl':
      // In order, by one sysctl process: the interfaces' own values go back after the write resets them.
      return [`${change.key}=${change.value}`, ...Object.entries(change.restore ?? {}).map(([k, v]) => `${k}=${v}`)].map((assignment) => ({ tool: 'sysctl', assignment }));
    case 'nftables':
      return [{ tool: 'nft', script: nftReplaceScript(change.lab, change.table) }];
    case 'run':
      return [
        change.action === 'delete'
          ? { tool: 'proc', op: 'stop', node: change.node, key: change.key }
          : { tool: 'proc', op: 'start', node: change.node, key: change.key, argv: runArgv(change.netns, change.command) },
      ];
    case 'evict':
      return [{ tool: 'proc', op: 'evict', netns: change.netns! }];
    case 'dns':
      return change.action === 'delete'
        ? [{ tool: 'file', op: 'remove', path: resolvConfPath(change.netns) }]
        : [{ tool: 'file', op: 'write', path: resolvConfPath(change.netns), content: change.content ?? '' }];
  }
}
