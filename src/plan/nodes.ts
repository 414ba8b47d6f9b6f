// A node's namespace in the plan: made, kept or removed (kind netns), published or not (attach),
// and whose it is. What is inside is compared by the resource modules (diff.ts diffContents). Pure.
import { emptyNode, type NodeState } from '../model/types.js';
import { diffResolvConf } from '../resources/dns.js';
import { restoreFlushedRoutes } from '../resources/route.js';
import type { Conflict, NewChange } from './change.js';
import { diffContents, type DiffContext } from './diff.js';
import { claimConflicts, NO_CLAIMS, withoutClaims } from './other-labs.js';
import { labView, type PartialOwnership } from './ownership.js';

function ownershipConflict(lab: string, have: NodeState, recorded: ReadonlySet<string>): Conflict | undefined {
  if (!have.exists || have.owner === lab) return undefined;
  if (have.owner === undefined && recorded.has(have.node)) return undefined;
  const owner = have.owner ? `lab ${have.owner}` : 'something other than netlab';
  return {
    node: have.node,
    netns: have.netns,
    reason: `namespace ${have.netns} already exists and belongs to ${owner} — delete it (ip netns del ${have.netns}) or give this lab a prefix`,
  };
}

/** A namespace that is no longer in the file: its processes, itself, and what it left in /etc/netns. */
function removeNamespace(ctx: DiffContext, name: string, have: NodeState | undefined): void {
  const { emit } = ctx;
  if (have?.stale) emit({ node: name, netns: have.netns, kind: 'netns', action: 'delete', reason: 'a file is left where the namespace was' });
  if (have?.exists) {
    // Every process inside goes first, the lab's own and any other: else the namespace lingers.
    if (have.pids?.length) emit({ node: name, netns: have.netns, kind: 'processes', action: 'delete', pids: have.pids, ...(have.inode ? { inode: have.inode } : {}), reason: `${have.pids.length} process(es) still inside` });
    emit({ node: name, netns: have.netns, kind: 'netns', action: 'delete', reason: 'node is not in the file' });
  }
  // Also when the namespace is gone already: a run stopped between the two left the file or its directory.
  if (have && (have.exists || ctx.options.known?.has(name))) diffResolvConf(undefined, have, emit);
}

/** A namespace the lab creates and owns whole. */
export function diffOwnedNode(ctx: DiffContext, name: string, want: NodeState | undefined, have: NodeState | undefined): void {
  const { desired, emit } = ctx;
  const conflict = have && ownershipConflict(desired.lab, have, ctx.options.madeByLab ?? new Set());
  if (conflict) return ctx.conflict(conflict);
  if (have?.stale && !ctx.options.known?.has(name)) {
    return ctx.conflict({ node: name, netns: have.netns, reason: `/run/netns/${have.netns} exists, is not a namespace, and is not the lab's — remove it` });
  }
  if (!want) return removeNamespace(ctx, name, have);
  // A namespace made again keeps what the record's earlier one left in /etc/netns to compare with.
  const left = have && ctx.options.known?.has(name) ? { resolvConf: have.resolvConf, etcDirLeft: have.etcDirLeft } : {};
  const claims = ctx.options.otherLabs?.get(name) ?? NO_CLAIMS;
  const theirs = claimConflicts(want, claims);
  if (theirs.length > 0) {
    for (const reason of theirs) ctx.conflict({ node: name, netns: want.netns, reason });
    return;
  }
  const current = have?.exists ? withoutClaims(desired.lab, have, claims) : { ...emptyNode(want.node, want.netns, false), ...left };
  if (!current.exists) {
    const stale = have?.stale === true;
    emit({ node: name, netns: want.netns, kind: 'netns', action: 'create', ...(stale ? { stale } : {}), reason: stale ? 'namespace missing (a file is left where it was)' : 'namespace missing' });
  }
  if (!current.exists || !current.loUp || current.owner !== desired.lab) {
    const action = current.exists ? 'update' : 'create';
    emit({ node: name, netns: want.netns, kind: 'loopback', action, lab: desired.lab, reason: current.exists ? 'lo down or unmarked' : 'lo up, ownership mark' });
  }
  diffContents(ctx, want, current);
}

const NOTHING_OWNED: PartialOwnership = { links: new Set(), addresses: new Map(), routes: new Set() };

/** What stands at an attach node's /run/netns/<netns> that is not the lab's to use or remove. */
function publishConflict(have: NodeState): string | undefined {
  const target = `/run/netns/${have.netns}`;
  if (have.publishBlocked === 'namespace') return `${target} is another namespace than ${have.source} — remove it (ip netns del ${have.netns}) or give the node another name`;
  if (have.publishBlocked === 'file' && !have.publishedByLab) return `${target} exists, is not a namespace, and is not the lab's — remove it`;
  return undefined;
}

/** The lab takes away only its own mount (or the empty file a stopped run left under it), never one it found. */
function unpublishes(have: NodeState | undefined): boolean {
  return have?.kind === 'attach' && have.publishedByLab === true && (have.published === true || have.publishBlocked === 'file');
}

/** The machine's root namespace, or an attached one: only the lab's own objects are compared. */
export function diffPartialNode(ctx: DiffContext, name: string, wantOrNone: NodeState | undefined, have: NodeState | undefined): void {
  const { desired, emit } = ctx;
  const kind = (wantOrNone ?? have)!.kind;
  const netns = (wantOrNone ?? have)!.netns;
  const unpublish = () => emit({ node: name, netns, kind: 'publish', action: 'delete', source: have?.source ?? '', reason: have?.published ? 'node is not in the file; its namespace stays' : 'an empty file is left where the lab was publishing it' });
  if (kind === 'attach' && wantOrNone && have) {
    const blocked = publishConflict(have);
    if (blocked) return ctx.conflict({ node: name, netns, reason: blocked });
  }
  if (!have?.exists) {
    if (wantOrNone) ctx.conflict({ node: name, netns, reason: `the namespace of node ${name} (${wantOrNone.source ?? 'root'}) does not exist` });
    else if (unpublishes(have)) unpublish();
    return;
  }
  const want = wantOrNone ?? { ...emptyNode(name, netns, true, kind), source: have.source };
  const owned = ctx.options.partial?.get(name) ?? NOTHING_OWNED;
  // What other labs made here is theirs: neither the lab's to change nor drift.
  const claims = ctx.options.otherLabs?.get(name) ?? NO_CLAIMS;
  const { view, conflicts } = labView(desired.lab, want, withoutClaims(desired.lab, have, claims), owned);
  conflicts.unshift(...(wantOrNone ? claimConflicts(want, claims) : []));
  for (const reason of conflicts) ctx.conflict({ node: name, netns, reason });
  if (conflicts.length > 0) return;
  if (kind === 'attach' && wantOrNone && !have.published) {
    const leftover = have.publishBlocked === 'file';
    emit({ node: name, netns, kind: 'publish', action: 'create', source: want.source!, reason: leftover ? 'an empty file is left where an earlier run was publishing it' : 'ip netns does not see it yet' });
  }
  const deletedAddresses: Array<{ dev: string; cidr: string }> = [];
  const watch = (c: NewChange) => {
    if (c.kind === 'address' && c.action === 'delete') deletedAddresses.push(c);
    emit(c);
  };
  diffContents({ ...ctx, emit: watch }, want, view, new Set(have.links.keys()));
  restoreFlushedRoutes(have, view, deletedAddresses, emit);
  if (!wantOrNone && unpublishes(have)) unpublish();
}
