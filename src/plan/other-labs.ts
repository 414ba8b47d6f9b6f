// Several labs may work in one namespace: the machine's root namespace (kind host), or one a lab
// attaches. What another lab's record lists as its own there is that lab's, not drift: this
// module takes it out of what a lab compares, and names where a file asks for it too. Pure.
import { ownsWholeNamespace, routeKey, type NodeKind, type NodeState } from '../model/types.js';

/** One sysctl as another lab holds it: the machine's value it will put back when the last holder goes. */
export interface SysctlClaim {
  lab: string;
  original: string;
  /** Interfaces' own keys the write-back resets, with their values from before the first holder. */
  interfaces?: Readonly<Record<string, string>>;
}

/** In one namespace, what other labs' records list, each object with the lab that made it. */
export interface OtherLabsClaims {
  links: ReadonlyMap<string, string>;
  /** dev → CIDR → lab. */
  addresses: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** route key → lab. */
  routes: ReadonlyMap<string, string>;
  /** sysctlIdentity(key) → the claim. */
  sysctls: ReadonlyMap<string, SysctlClaim>;
}

export const NO_CLAIMS: OtherLabsClaims = { links: new Map(), addresses: new Map(), routes: new Map(), sysctls: new Map() };

/**
 * The files a node's namespace is known by, for telling two labs' nodes are in one namespace:
 * host nodes share the root namespace; a netns or attach node is its /run/netns name, an attach
 * node also its source (`/run/netns/x` when it attaches another lab's namespace by path).
 */
export function namespaceNames(node: { kind: NodeKind; netns: string | null; source?: string }): string[] {
  if (node.kind === 'host') return ['root namespace'];
  return [...(node.netns !== null ? [`/run/netns/${node.netns}`] : []), ...(node.kind === 'attach' && node.source ? [node.source] : [])];
}


/**
 * The actual state without what other labs made: their addresses and routes, and, in a namespace
 * the lab owns whole, their links (elsewhere a link not marked as the lab's is not compared, but
 * the file may name it as an interface to use).
 */
export function withoutClaims(lab: string, have: NodeState, claims: OtherLabsClaims): NodeState {
  if (claims.links.size === 0 && claims.addresses.size === 0 && claims.routes.size === 0) return have;
  const links = new Map(have.links);
  for (const [name, link] of have.links) {
    if (ownsWholeNamespace(have.kind) && claims.links.has(name) && link.owner !== lab) {
      links.delete(name);
      continue;
    }
    const theirs = claims.addresses.get(name);
    if (theirs) links.set(name, { ...link, addresses: link.addresses.filter((a) => !theirs.has(a)) });
  }
  const routes = new Map([...have.routes].filter(([key]) => !claims.routes.has(key)));
  return { ...have, links, routes };
}

/** What the file asks for that another lab has made: one line each, naming that lab. */
export function claimConflicts(want: NodeState, claims: OtherLabsClaims): string[] {
  const conflicts: string[] = [];
  for (const [dev, link] of want.links) {
    for (const cidr of link.addresses) {
      const other = claims.addresses.get(dev)?.get(cidr);
      if (other) conflicts.push(`address ${cidr} on ${want.node}:${dev} is lab ${other}'s — remove it from this file, or destroy lab ${other} first`);
    }
    const maker = link.type !== 'existing' ? claims.links.get(dev) : undefined;
    if (maker) conflicts.push(`${link.type} ${dev} in node ${want.node} is lab ${maker}'s — rename it in this file, or destroy lab ${maker} first`);
  }
  for (const route of want.routes.values()) {
    const other = claims.routes.get(routeKey(route));
    if (other) conflicts.push(`route ${route.to} (metric ${route.metric}) in node ${want.node} is lab ${other}'s — remove it from this file, or change its metric`);
  }
  return conflicts;
}
