// Which of a node's links are kept and which are made again, decided once per node before any
// resource inside it is compared: a port of a bridge made again is enslaved again, a route
// through a link made again is set again. Pure.
import { formatEndpoint } from '../model/names.js';
import type { LabState, LinkState, NodeState } from '../model/types.js';
import { settingsDelta } from '../model/virtual.js';
import type { LinkFate } from './resource.js';
import { isVethPairedWith } from './veth-pairing.js';

/** Link-local IPv6 is wanted but the kernel has it off: only a link made again gets it without a restart. */
function lacksLinkLocal(want: LinkState | undefined, have: LinkState | undefined): boolean {
  return want?.linkLocal === true && have?.linkLocal === false;
}

/** A veth pair is made again whole: its far end lacking link-local IPv6 is reason enough. */
function peerLacksLinkLocal(desired: LabState, actual: LabState, want: LinkState): boolean {
  if (!want.peer) return false;
  return lacksLinkLocal(desired.nodes.get(want.peer.node)?.links.get(want.peer.name), actual.nodes.get(want.peer.node)?.links.get(want.peer.name));
}

/** Whether an actual link can be kept for a desired one, or must be deleted and made again. */
function linkMatches(desired: LabState, actual: LabState, node: string, want: LinkState): boolean {
  const have = actual.nodes.get(node)?.links.get(want.name);
  if (want.type === 'existing') return have !== undefined;
  if (!have || have.type !== want.type || lacksLinkLocal(want, have)) return false;
  if (want.type === 'virtual') return virtualMismatch(desired, actual, node, want, have) === undefined;
  if (want.type !== 'veth') return true;
  const peerNode = desired.nodes.get(want.peer!.node)!;
  return isVethPairedWith(actual.nodes, node, want.name, want.peer!) && actual.nodes.get(peerNode.node)?.exists === true && !peerLacksLinkLocal(desired, actual, want);
}

/**
 * Why a virtual interface must be made again: another kind, another parent, a setting the kernel
 * cannot change in place, or its parent made again (the kernel deletes the child with it).
 */
function virtualMismatch(desired: LabState, actual: LabState, node: string, want: LinkState, have: LinkState): string | undefined {
  const w = want.virtual!;
  const h = have.virtual;
  if (!h || h.kind !== w.kind) return `${want.name} is a ${h?.kind ?? have.type}, the file wants a ${w.kind}`;
  const across = w.parent !== undefined && w.parent.node !== node;
  if (w.parent && !across && h.parent?.name !== w.parent.name) return `${want.name} rides on ${h.parent?.name ?? 'no parent'}, the file wants ${w.parent.name}`;
  if (across && !h.parentElsewhere) return `${want.name} is not made from ${formatEndpoint({ node: w.parent!.node, ifname: w.parent!.name })}`;
  const { remake } = settingsDelta(w.kind, w.settings, h.settings);
  if (remake.length > 0) return `${want.name}: ${remake.map((k) => `${k} ${String(h.settings[k] ?? 'unset')} → ${String(w.settings[k] ?? 'unset')}`).join(', ')} (the kernel cannot change ${remake.length > 1 ? 'these' : 'it'} in place)`;
  if (w.parent) {
    const parentWant = desired.nodes.get(w.parent.node)?.links.get(w.parent.name);
    if (parentWant && !linkMatches(desired, actual, w.parent.node, parentWant)) return `its parent ${formatEndpoint({ node: w.parent.node, ifname: w.parent.name })} is made again`;
  }
  return undefined;
}

const LINK_LOCAL_WANTED = 'the file wants it on (ipv6: true, or an IPv6 address in the file)';

/** Why an actual link cannot be kept for the one the file wants (the reason of its delete and its remake). */
export function whyMismatch(desired: LabState, actual: LabState, have: LinkState | undefined, want: LinkState, node = ''): string {
  if (!have) return `${want.type} missing`;
  if (have.type !== want.type) return `${want.name} is a ${have.type}, the file wants a ${want.type}`;
  if (lacksLinkLocal(want, have)) return `${want.name} has link-local IPv6 off, ${LINK_LOCAL_WANTED}`;
  if (want.type === 'virtual') return virtualMismatch(desired, actual, node, want, have) ?? `${want.name} differs`;
  const peer = formatEndpoint({ node: want.peer!.node, ifname: want.peer!.name });
  if (peerLacksLinkLocal(desired, actual, want)) return `${peer} has link-local IPv6 off, ${LINK_LOCAL_WANTED}`;
  return `${want.name} is not joined to ${peer}`;
}

/** The link the lab keeps for a declared one: undefined when it is made again (or new). */
export function keptLink(fate: LinkFate, current: NodeState, name: string): LinkState | undefined {
  return fate.recreated.has(name) ? undefined : current.links.get(name);
}

export function linkFate(desired: LabState, actual: LabState, want: NodeState, current: NodeState): LinkFate {
  const recreated = new Set<string>();
  for (const link of want.links.values()) if (!linkMatches(desired, actual, want.node, link)) recreated.add(link.name);
  // An interface that is not the lab's stays when the file drops it: routes through it do not go with it.
  const gone = new Set([...current.links].filter(([name, link]) => (!want.links.has(name) && link.type !== 'existing') || recreated.has(name)).map(([name]) => name));
  const deletedAddresses: string[] = [];
  for (const name of [...want.links.keys()].sort()) {
    if (recreated.has(name)) continue;
    const wanted = new Set(want.links.get(name)!.addresses);
    deletedAddresses.push(...(current.links.get(name)?.addresses ?? []).filter((cidr) => !wanted.has(cidr)));
  }
  return { recreated, gone, deletedAddresses };
}
