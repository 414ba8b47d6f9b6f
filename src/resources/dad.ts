// Duplicate address detection off on the links a lab makes, so that their IPv6 link-local
// addresses are usable the moment the links come up. Pure.
//
// A new link-local address stays tentative for one to two seconds while the kernel checks it
// for duplicates, and until then a router cannot forward IPv6 out of that link: the kernel sends
// the neighbour solicitation for a forwarded packet only from a usable link-local address. The
// links are the lab's own and their names unique per namespace, so there is nothing to detect.
// The lab's global IPv6 addresses get `nodad` for the same reason (address.ts).
import type { LinkState, NodeState } from '../model/types.js';
import { ownsWholeNamespace } from '../model/types.js';
import type { Change } from './change.js';
import type { Unnamed } from './resource.js';

/** The sysctl key of an interface setting: a dot in an interface name is written as a slash. */
export function interfaceSysctl(ifname: string, setting: string): string {
  return `net.ipv6.conf.${ifname.replace(/\./g, '/')}.${setting}`;
}

/**
 * The sysctls that turn detection off for `made`, the links of `node` about to be made that get a
 * link-local address. A veth end exists before its node's batch runs (the root namespace makes
 * the pair), so it is set by name. A bridge is made in the node's own batch: in a namespace the
 * lab owns, its `default` is set instead, which a link takes when it is made; elsewhere that
 * default is not the lab's, and the bridge is set by name once made. A key the file sets itself
 * is left to the file.
 */
export function dadChanges(node: NodeState, made: readonly LinkState[]): Unnamed<Change>[] {
  const keys = new Set<string>();
  for (const link of made) {
    if (link.linkLocal !== true) continue;
    const byDefault = link.type === 'bridge' && ownsWholeNamespace(node.kind);
    keys.add(byDefault ? 'net.ipv6.conf.default.accept_dad' : interfaceSysctl(link.name, 'accept_dad'));
  }
  return [...keys]
    .filter((key) => !node.sysctls.has(key))
    .sort()
    .map((key) => ({
      node: node.node,
      netns: node.netns,
      kind: 'sysctl',
      action: 'create',
      key,
      value: '0',
      beforeUp: true,
      reason: `duplicate address detection off on ${key.startsWith('net.ipv6.conf.default.') ? 'the bridges the lab makes' : `new ${key.split('.')[3]!.replace(/\//g, '.')}`}, so that its link-local address works at once`,
    }));
}
