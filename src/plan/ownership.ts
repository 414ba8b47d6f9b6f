// In a namespace the lab did not create (kind host or attach) it owns only what it made there.
// This module cuts the actual state of such a namespace down to the lab's own objects, so that
// diff can treat it like any other, and names what stands in the lab's way. Pure.
import type { LinkState, NftTable, NodeState } from '../model/types.js';
import { ownerMark } from '../model/names.js';
import { nftTableName } from '../model/nft.js';
import { markedObjects } from '../resources/marked.js';
import { OWNING_RESOURCES } from '../resources/registry.js';

/** What the lab's record says it made in one such namespace. */
export interface PartialOwnership {
  links: ReadonlySet<string>;
  /** dev → CIDRs the lab added to an interface that is not its own. */
  addresses: ReadonlyMap<string, ReadonlySet<string>>;
  routes: ReadonlySet<string>;
  /** Per resource kind that finds its own objects (its labsOwn), the keys of what the lab made here. */
  objects?: ReadonlyMap<string, ReadonlySet<string>>;
  /** The lab's nftables rules here as last read back: rule id → fingerprint. */
  nftRules?: Readonly<Record<string, string>>;
}

export interface LabView {
  view: NodeState;
  conflicts: string[];
}

/** Marked as the lab's, or listed by its record and not (yet) marked: a link marked as another lab's is never this one's. */
function isLabLink(lab: string, link: LinkState, owned: PartialOwnership): boolean {
  return link.owner === lab || (link.owner === undefined && owned.links.has(link.name));
}

/**
 * The table carries the lab's mark (its comment), or, made by a netlab that wrote no mark, holds
 * exactly rules the record lists, unchanged. A table of the lab's name made by hand is neither.
 */
function isLabTable(lab: string, table: NftTable, owned: PartialOwnership): boolean {
  if (table.owner !== undefined) return table.owner === lab;
  const rules = table.chains.flatMap((c) => c.rules);
  return rules.length > 0 && rules.every((r) => owned.nftRules?.[r.id] !== undefined && owned.nftRules[r.id] === r.fingerprint);
}

export function labView(lab: string, want: NodeState, have: NodeState, owned: PartialOwnership): LabView {
  const conflicts: string[] = [];
  const links = new Map<string, LinkState>();
  for (const [name, link] of have.links) {
    const wanted = want.links.get(name);
    if (isLabLink(lab, link, owned)) {
      links.set(name, link);
      continue;
    }
    const ours = owned.addresses.get(name) ?? new Set<string>();
    if (wanted && wanted.type !== 'existing') {
      conflicts.push(`${link.type} ${name} already exists in node ${have.node} and is not the lab's — rename it in the file, or remove it`);
      continue;
    }
    if (!wanted && ours.size === 0) continue;
    for (const cidr of wanted?.addresses ?? []) {
      if (link.addresses.includes(cidr) && !ours.has(cidr)) {
        conflicts.push(`address ${cidr} on ${have.node}:${name} already exists and is not the lab's — remove it from the file or from ${name}`);
      }
    }
    links.set(name, { ...link, type: 'existing', addresses: link.addresses.filter((a) => ours.has(a)) });
  }
  for (const [name, link] of want.links) {
    if (link.type === 'existing' && !have.links.has(name)) {
      conflicts.push(`interface ${name} does not exist in node ${have.node} — create it with a link, or correct the name`);
    }
  }
  const { mine: routes, conflicts: theirRoutes } = markedObjects(have.routes, want.routes, owned.routes, (route) => `route ${route.to} (metric ${route.metric}) already exists in node ${have.node} and is not the lab's — remove it, or change the file's metric`);
  conflicts.push(...theirRoutes);
  let nft = have.nft;
  if (nft && !isLabTable(lab, nft, owned)) {
    const table = nftTableName(lab);
    if (want.nft) conflicts.push(`table inet ${table} in node ${have.node} already exists and is not the lab's (it lacks the comment "${ownerMark(lab)}") — delete it (nft delete table inet ${table}) or give the lab another name`);
    nft = undefined;
  }
  let view: NodeState = { ...have, links, routes, nft };
  for (const resource of OWNING_RESOURCES) {
    const own = resource.labsOwn!(want, have, owned.objects?.get(resource.kind) ?? new Set());
    view = { ...view, ...own.view };
    conflicts.push(...own.conflicts);
  }
  return { view, conflicts };
}
