// (desired, actual) → the changes that make actual equal desired. Pure.
import { isVethPairedWith } from '../kernel/parse.js';
import { subnetContains } from '../model/ip.js';
import { formatEndpoint, ownerMark } from '../model/names.js';
import { dadChanges } from './dad.js';
import { labView, type PartialOwnership } from './ownership.js';
import { emptyNode, ownsWholeNamespace, routeKey, sortedKeys, type LabState, type LinkState, type NftChain, type NodeState, type PeerRef, type RouteState } from '../model/types.js';
import { compareChanges, type Change, type Conflict, type LinkSettings, type NewChange, type NftDetail, type Plan } from './change.js';

export interface DiffOptions {
  /** Every node the lab's record lists: a stale /run/netns file is the lab's to remove only for these. */
  known?: ReadonlySet<string>;
  /** Per host or attach node, what the lab's record says it made there. */
  partial?: ReadonlyMap<string, PartialOwnership>;
  /** Per host or attach node, each sysctl's value from before the lab changed it. */
  sysctlOriginals?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * Per node, the fingerprint of each of the lab's nftables rules as the kernel read it back after
   * the last apply: a rule edited by hand keeps its comment but not its fingerprint.
   */
  nftFingerprints?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /**
   * Nodes whose unmarked namespace is proven the lab's own: a run made it (the root namespace's id
   * for it is the one the run recorded) and stopped before writing the mark.
   */
  recorded?: ReadonlySet<string>;
}

type Emit = (change: NewChange) => void;

function describeRoute(r: RouteState): string {
  const parts = [r.to === 'default' && r.family === 6 ? 'default (IPv6)' : r.to];
  if (r.via) parts.push(`via ${r.via}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.metric) parts.push(`metric ${r.metric}`);
  return parts.join(' ');
}

function describeSettings(set: LinkSettings): string {
  const parts: string[] = [];
  if (set.master !== undefined) parts.push(set.master === null ? 'no master' : `master ${set.master}`);
  if (set.mtu !== undefined) parts.push(`mtu ${set.mtu}`);
  if (set.mac !== undefined) parts.push(`mac ${set.mac}`);
  if (set.stp !== undefined) parts.push(`stp ${set.stp ? 'on' : 'off'}`);
  if (set.linkLocal !== undefined) parts.push(`link-local IPv6 ${set.linkLocal ? 'on' : 'off'}`);
  if (set.up !== undefined) parts.push(set.up ? 'up' : 'down');
  return parts.join(', ');
}

/** What must be set on a link for it to match; everything when the link is new. */
export function settingsDiff(want: LinkState, have: LinkState | undefined): LinkSettings {
  const set: LinkSettings = {};
  if (want.type === 'existing') return set;
  if (want.mtu !== undefined && want.mtu !== have?.mtu) set.mtu = want.mtu;
  if (want.mac !== undefined && want.mac !== have?.mac) set.mac = want.mac;
  if (have ? want.master !== have.master : want.master !== null) set.master = want.master;
  if (want.type === 'bridge' && want.stp !== undefined && want.stp !== have?.stp) set.stp = want.stp;
  if (have ? want.up !== have.up : want.up) set.up = want.up;
  // A new link has link-local IPv6 unless told otherwise; turning it on again needs a new link (linkMatches).
  if (want.linkLocal === false && (have ? have.linkLocal === true : true)) set.linkLocal = false;
  return set;
}

/** What a link has now, of the settings a change sets: the "before" of its reason. */
function currentSettings(have: LinkState, set: LinkSettings): LinkSettings {
  const before: LinkSettings = {};
  if (set.mtu !== undefined) before.mtu = have.mtu;
  if (set.mac !== undefined) before.mac = have.mac;
  if (set.master !== undefined) before.master = have.master;
  if (set.stp !== undefined) before.stp = have.stp;
  if (set.up !== undefined) before.up = have.up;
  if (set.linkLocal !== undefined) before.linkLocal = have.linkLocal;
  return before;
}

/** Link-local IPv6 is wanted but the kernel has it off: only a link made again gets it without a restart. */
function lacksLinkLocal(want: LinkState | undefined, have: LinkState | undefined): boolean {
  return want?.linkLocal === true && have?.linkLocal === false;
}

/** Whether an actual link can be kept for a desired one, or must be deleted and made again. */
function linkMatches(desired: LabState, actual: LabState, node: string, want: LinkState): boolean {
  const have = actual.nodes.get(node)?.links.get(want.name);
  if (want.type === 'existing') return have !== undefined;
  if (!have || have.type !== want.type || lacksLinkLocal(want, have)) return false;
  if (want.type !== 'veth') return true;
  const peerNode = desired.nodes.get(want.peer!.node)!;
  return isVethPairedWith(actual.nodes, node, want.name, want.peer!) && actual.nodes.get(peerNode.node)?.exists === true && !peerLacksLinkLocal(desired, actual, want);
}

/** A veth pair is made again whole: its far end lacking link-local IPv6 is reason enough. */
function peerLacksLinkLocal(desired: LabState, actual: LabState, want: LinkState): boolean {
  if (!want.peer) return false;
  return lacksLinkLocal(desired.nodes.get(want.peer.node)?.links.get(want.peer.name), actual.nodes.get(want.peer.node)?.links.get(want.peer.name));
}

const LINK_LOCAL_WANTED = 'the file wants it on (ipv6: true, or an IPv6 address in the file)';

function whyMismatch(desired: LabState, actual: LabState, have: LinkState | undefined, want: LinkState): string {
  if (!have) return `${want.type} missing`;
  if (have.type !== want.type) return `${want.name} is a ${have.type}, the file wants a ${want.type}`;
  if (lacksLinkLocal(want, have)) return `${want.name} has link-local IPv6 off, ${LINK_LOCAL_WANTED}`;
  const peer = formatEndpoint({ node: want.peer!.node, ifname: want.peer!.name });
  if (peerLacksLinkLocal(desired, actual, want)) return `${peer} has link-local IPv6 off, ${LINK_LOCAL_WANTED}`;
  return `${want.name} is not joined to ${peer}`;
}

/** What a node's link changes take away from under its routes. */
interface Disturbance {
  /** Links deleted or made again: their routes go with them. */
  recreated: Set<string>;
  /** Addresses deleted: the kernel drops routes whose gateway they made reachable. */
  deletedAddresses: string[];
}

/** The actual veth ends joined to node:name, which deleting it deletes too. */
function actualPeerEnds(actual: LabState, node: string, name: string): PeerRef[] {
  if (actual.nodes.get(node)?.links.get(name)?.type !== 'veth') return [];
  const ends: PeerRef[] = [];
  for (const other of actual.nodes.values()) {
    for (const [otherName, otherLink] of other.links) {
      if (otherLink.type === 'veth' && isVethPairedWith(actual.nodes, node, name, { node: other.node, name: otherName })) ends.push({ node: other.node, name: otherName });
    }
  }
  return ends;
}

/**
 * Deletes node:name unless it already went with a veth peer deleted before it, and notes its own
 * peer ends as gone: one delete per pair, whichever end comes first (ends moved to other pairs too).
 */
function deleteLink(actual: LabState, have: NodeState, name: string, reason: string, emit: Emit, deletedEnds: Set<string>): void {
  const self = formatEndpoint({ node: have.node, ifname: name });
  if (deletedEnds.has(self)) return;
  deletedEnds.add(self);
  const peerEnds = actualPeerEnds(actual, have.node, name);
  for (const end of peerEnds) deletedEnds.add(formatEndpoint({ node: end.node, ifname: end.name }));
  emit({ node: have.node, netns: have.netns, kind: 'link-delete', action: 'delete', name, reason, ...(peerEnds.length > 0 ? { peerEnds } : {}) });
}

function diffLinks(desired: LabState, actual: LabState, want: NodeState, have: NodeState, emit: Emit, done: { veths: Set<string>; deletedEnds: Set<string> }): Disturbance {
  const doneVeths = done.veths;
  const base = { node: want.node, netns: want.netns };
  const recreated = new Set<string>();
  const deletedAddresses: string[] = [];
  const names = sortedKeys(want.links);
  // Known before any link's settings: a port of a bridge made again must be enslaved again.
  for (const name of names) if (!linkMatches(desired, actual, want.node, want.links.get(name)!)) recreated.add(name);
  for (const name of names) {
    const link = want.links.get(name)!;
    const existing = have.links.get(name);
    const keep = !recreated.has(name);
    if (!keep) {
      const peer = link.peer;
      const pairId = peer ? [formatEndpoint({ node: want.node, ifname: name }), formatEndpoint({ node: peer.node, ifname: peer.name })].sort().join('=') : '';
      if (existing) deleteLink(actual, have, name, whyMismatch(desired, actual, existing, link), emit, done.deletedEnds);
      if (link.type === 'bridge') {
        emit({ ...base, kind: 'bridge', action: 'create', name, reason: existing ? whyMismatch(desired, actual, existing, link) : 'bridge missing' });
      } else if (link.type === 'veth' && peer) {
        if (!doneVeths.has(pairId)) {
          doneVeths.add(pairId);
          const peerNetns = desired.nodes.get(peer.node)!.netns;
          emit({
            ...base,
            id: `veth/${pairId}`,
            kind: 'veth',
            action: 'create',
            name,
            peer: { node: peer.node, netns: peerNetns, name: peer.name },
            reason: existing ? whyMismatch(desired, actual, existing, link) : 'veth pair missing',
          });
        }
      }
    }
    const current = keep ? existing : undefined;
    const set = settingsDiff(link, current);
    if (current && link.master !== null && recreated.has(link.master)) set.master = link.master;
    // In a namespace the lab does not own, what it makes carries its mark.
    if (!ownsWholeNamespace(want.kind) && link.type !== 'existing' && current?.owner !== desired.lab) set.alias = ownerMark(desired.lab);
    if (Object.keys(set).length > 0) {
      emit({
        ...base,
        kind: 'settings',
        action: current ? 'update' : 'create',
        name,
        set,
        reason: current ? `${name}: ${describeSettings(currentSettings(current, set))} → ${describeSettings(set)}` : `new ${link.type}: ${describeSettings(set)}`,
      });
    }
    const haveAddresses = new Set(current?.addresses ?? []);
    const wantAddresses = new Set(link.addresses);
    for (const cidr of link.addresses) {
      if (!haveAddresses.has(cidr)) {
        emit({ ...base, kind: 'address', action: 'create', dev: name, cidr, reason: `address ${cidr} missing on ${want.node}:${name}` });
      }
    }
    for (const cidr of current?.addresses ?? []) {
      if (!wantAddresses.has(cidr)) {
        deletedAddresses.push(cidr);
        emit({ ...base, kind: 'address', action: 'delete', dev: name, cidr, reason: `address ${cidr} on ${want.node}:${name} is not in the file` });
      }
    }
  }
  for (const change of dadChanges(want, [...recreated].map((name) => want.links.get(name)!))) emit(change);
  return { recreated, deletedAddresses };
}

/**
 * Links in a lab namespace that the file does not declare. A veth pair with both ends among them
 * is deleted once: deleting one end removes the other.
 */
function diffExtraLinks(desired: NodeState | undefined, have: NodeState, actual: LabState, emit: Emit, deletedEnds: Set<string>): void {
  for (const name of sortedKeys(have.links)) {
    if (desired?.links.has(name)) continue;
    const link = have.links.get(name)!;
    if (link.type === 'existing') {
      // Not the lab's interface: only the addresses the lab gave it go.
      for (const cidr of link.addresses) {
        emit({ node: have.node, netns: have.netns, kind: 'address', action: 'delete', dev: name, cidr, reason: `address ${cidr} on ${have.node}:${name} is not in the file` });
      }
      continue;
    }
    deleteLink(actual, have, name, `${link.type} ${name} is not in the file`, emit, deletedEnds);
  }
}

function sameRoute(want: RouteState, have: RouteState): boolean {
  return want.via === have.via && (want.dev === undefined || want.dev === have.dev);
}

function isDisturbed(route: RouteState, disturbance: Disturbance): boolean {
  if (route.dev && disturbance.recreated.has(route.dev)) return true;
  const via = route.via;
  return via !== undefined && disturbance.deletedAddresses.some((cidr) => subnetContains(cidr, via));
}

function diffRoutes(want: NodeState, have: NodeState, emit: Emit, deletedLinks: ReadonlySet<string>, disturbance: Disturbance): void {
  const base = { node: want.node, netns: want.netns };
  for (const key of sortedKeys(want.routes)) {
    const route = want.routes.get(key)!;
    const current = have.routes.get(key);
    if (current && sameRoute(route, current) && !isDisturbed(current, disturbance)) continue;
    const reason = !current
      ? `route ${describeRoute(route)} missing`
      : sameRoute(route, current)
        ? `route ${describeRoute(route)} goes with the link or address changed under it; set again`
        : `route ${describeRoute(current)} → ${describeRoute(route)}`;
    emit({ ...base, kind: 'route', action: current ? 'update' : 'create', route, reason });
  }
  for (const key of sortedKeys(have.routes)) {
    const route = have.routes.get(key)!;
    // A route through a link being deleted goes with it.
    if (want.routes.has(key) || (route.dev && deletedLinks.has(route.dev))) continue;
    emit({ ...base, kind: 'route', action: 'delete', route, reason: `route ${describeRoute(route)} is not in the file` });
  }
}

function diffSysctls(want: NodeState, have: NodeState, originals: Readonly<Record<string, string>>, emit: Emit): void {
  // Outside its own namespaces the lab puts back what it found, once the file stops setting it.
  for (const [key, value] of Object.entries(originals).sort()) {
    if (want.sysctls.has(key) || have.sysctls.get(key) === value) continue;
    emit({ node: want.node, netns: want.netns, kind: 'sysctl', action: 'update', key, value, reason: `${key}: back to ${value}, its value before the lab` });
  }
  for (const key of sortedKeys(want.sysctls)) {
    const value = want.sysctls.get(key)!;
    const current = have.sysctls.get(key);
    if (current === value) continue;
    emit({
      node: want.node,
      netns: want.netns,
      kind: 'sysctl',
      action: current === undefined ? 'create' : 'update',
      key,
      value,
      reason: current === undefined ? `${key} not set yet` : `${key} is ${current}, the file says ${value}`,
    });
  }
}

function diffDns(want: NodeState | undefined, have: NodeState, emit: Emit): void {
  const base = { node: have.node, netns: have.netns, kind: 'dns' as const };
  if (want?.resolvConf === have.resolvConf && !(want?.resolvConf === undefined && have.etcDirLeft)) return;
  if (want?.resolvConf === undefined) {
    const reason = have.resolvConf === undefined ? `an empty /etc/netns/${have.netns} is left` : `/etc/netns/${have.netns}/resolv.conf is not in the file`;
    emit({ ...base, action: 'delete', reason });
  } else {
    const action = have.resolvConf === undefined ? 'create' : 'update';
    emit({ ...base, action, content: want.resolvConf, reason: action === 'create' ? 'resolv.conf missing' : 'resolv.conf differs from the file' });
  }
}

function diffChain(want: NftChain | undefined, have: NftChain | undefined, fingerprints: Readonly<Record<string, string>>): NftDetail[] {
  const name = (want ?? have)!.name;
  if (!want) return [{ action: 'delete', text: `chain ${name}`, reason: 'not in the file' }];
  const details: NftDetail[] = [];
  if (!have) details.push({ action: 'create', text: `chain ${name} (${want.hook}, policy ${want.policy})`, reason: 'chain missing' });
  else if (have.policy !== want.policy) details.push({ action: 'update', text: `chain ${name} policy ${want.policy}`, reason: `policy is ${have.policy}` });
  else if (have.type !== want.type || have.hook !== want.hook || have.priority !== want.priority) {
    details.push({ action: 'update', text: `chain ${name}`, reason: `is ${have.type} ${have.hook} priority ${have.priority}` });
  }
  const haveRules = have?.rules ?? [];
  const haveIds = new Set(haveRules.map((r) => r.id));
  const wantIds = new Set(want.rules.map((r) => r.id));
  for (const rule of want.rules) {
    const current = haveRules.find((r) => r.id === rule.id);
    if (!current) details.push({ action: 'create', text: `rule in ${name}: ${rule.text}`, reason: 'rule missing' });
    else if (fingerprints[rule.id] !== undefined && fingerprints[rule.id] !== current.fingerprint) {
      details.push({ action: 'update', text: `rule in ${name}: ${rule.text}`, reason: 'rule changed by hand' });
    }
  }
  for (const rule of haveRules) {
    if (!wantIds.has(rule.id)) details.push({ action: 'delete', text: `rule in ${name} (handle ${rule.handle})`, reason: rule.id.startsWith('netlab:') ? 'not in the file' : 'not the lab\'s rule' });
  }
  const kept = haveRules.filter((r) => wantIds.has(r.id)).map((r) => r.id);
  const order = want.rules.filter((r) => haveIds.has(r.id)).map((r) => r.id);
  if (details.length === 0 && kept.join() !== order.join()) details.push({ action: 'update', text: `chain ${name}`, reason: 'rules out of order' });
  return details;
}

/** run: commands started when not running (or exited), stopped when no longer in the file. */
function diffRuns(want: NodeState | undefined, have: NodeState, emit: Emit): void {
  const base = { node: have.node, netns: have.netns, kind: 'run' as const, nodeKind: have.kind };
  for (const [key, run] of want?.runs ?? []) {
    const current = have.runs.get(key);
    if (current?.alive) continue;
    const reason = current ? `exited (its output: ${current.log}); started again` : 'not running';
    emit({ ...base, action: 'create', key, command: run.command, reason });
  }
  for (const [key, run] of have.runs) {
    if (want?.runs.has(key) || !run.alive) continue;
    emit({ ...base, action: 'delete', key, command: run.command, reason: 'not in the file' });
  }
}

/** The lab's nftables table in one node: rule-level details, one atomic rewrite. */
function diffNft(lab: string, want: NodeState | undefined, have: NodeState, fingerprints: Readonly<Record<string, string>>, emit: Emit): void {
  const wantTable = want?.nft;
  const haveTable = have.nft;
  if (!wantTable && !haveTable) return;
  const names = [...new Set([...(wantTable?.chains ?? []), ...(haveTable?.chains ?? [])].map((c) => c.name))];
  const details = names.flatMap((n) =>
    diffChain(
      wantTable?.chains.find((c) => c.name === n),
      haveTable?.chains.find((c) => c.name === n),
      fingerprints,
    ),
  );
  if (details.length === 0) return;
  const action = !haveTable ? 'create' : !wantTable ? 'delete' : 'update';
  const reason = action === 'create' ? 'table missing' : action === 'delete' ? 'nat and firewall are not in the file' : `${details.length} difference(s)`;
  emit({ node: have.node, netns: have.netns, kind: 'nftables', action, lab, table: wantTable, details, reason });
}

function changeId(change: NewChange): string {
  const where = `${change.node}`;
  switch (change.kind) {
    case 'netns':
    case 'publish':
    case 'loopback':
    case 'dns':
      return `${change.kind}/${where}`;
    case 'veth':
    case 'bridge':
    case 'link-delete':
    case 'settings':
      return `${change.kind}/${where}:${change.name}`;
    case 'address':
      return `address/${where}:${change.dev}/${change.cidr}`;
    case 'route':
      return `route/${where}/${routeKey(change.route)}`;
    case 'sysctl':
      return `sysctl/${where}/${change.key}`;
    case 'nftables':
      return `nftables/${where}`;
    case 'run':
      return `run/${where}/${change.key}`;
    case 'evict':
      return `evict/${where}`;
  }
}

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

interface Context {
  desired: LabState;
  actual: LabState;
  options: DiffOptions;
  emit: Emit;
  conflicts: Conflict[];
  doneVeths: Set<string>;
  deletedEnds: Set<string>;
}

/** Everything inside one node's namespace, compared; `current` is what the lab may change there. */
function diffContents(ctx: Context, want: NodeState, current: NodeState): void {
  const { desired, actual, options, emit } = ctx;
  const disturbance = diffLinks(desired, actual, want, current, emit, { veths: ctx.doneVeths, deletedEnds: ctx.deletedEnds });
  diffExtraLinks(want, current, actual, emit, ctx.deletedEnds);
  const gone = new Set([...current.links.keys()].filter((l) => !want.links.has(l) || disturbance.recreated.has(l)));
  diffRoutes(want, current, emit, gone, { ...disturbance, recreated: gone });
  diffSysctls(want, current, options.sysctlOriginals?.get(want.node) ?? {}, emit);
  diffNft(desired.lab, want, current, options.nftFingerprints?.get(want.node) ?? {}, emit);
  diffDns(want, current, emit);
  diffRuns(want, current, emit);
}

/** A namespace the lab creates and owns whole. */
function diffOwnedNode(ctx: Context, name: string, want: NodeState | undefined, have: NodeState | undefined): void {
  const { desired, emit } = ctx;
  const conflict = have && ownershipConflict(desired.lab, have, ctx.options.recorded ?? new Set());
  if (conflict) {
    ctx.conflicts.push(conflict);
    return;
  }
  if (have?.stale && !ctx.options.known?.has(name)) {
    ctx.conflicts.push({ node: name, netns: have.netns, reason: `/run/netns/${have.netns} exists, is not a namespace, and is not the lab's — remove it` });
    return;
  }
  if (!want) {
    if (have?.stale) emit({ node: name, netns: have.netns, kind: 'netns', action: 'delete', reason: 'a file is left where the namespace was' });
    if (have?.exists) {
      // Every process inside goes first, the lab's own and any other: else the namespace lingers.
      if (have.pids?.length) emit({ node: name, netns: have.netns, kind: 'evict', action: 'delete', pids: have.pids, ...(have.inode ? { inode: have.inode } : {}), reason: `${have.pids.length} process(es) still inside` });
      emit({ node: name, netns: have.netns, kind: 'netns', action: 'delete', reason: 'node is not in the file' });
    }
    // Also when the namespace is gone already: a run stopped between the two left the file or its directory.
    if (have && (have.exists || ctx.options.known?.has(name))) diffDns(undefined, have, emit);
    return;
  }
  // A namespace made again keeps what the record's earlier one left in /etc/netns to compare with.
  const left = have && ctx.options.known?.has(name) ? { resolvConf: have.resolvConf, etcDirLeft: have.etcDirLeft } : {};
  const current = have?.exists ? have : { ...emptyNode(want.node, want.netns, false), ...left };
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
function diffPartialNode(ctx: Context, name: string, wantOrNone: NodeState | undefined, have: NodeState | undefined): void {
  const { desired, emit } = ctx;
  const kind = (wantOrNone ?? have)!.kind;
  const netns = (wantOrNone ?? have)!.netns;
  const unpublish = () => emit({ node: name, netns, kind: 'publish', action: 'delete', source: have?.source ?? '', reason: have?.published ? 'node is not in the file; its namespace stays' : 'an empty file is left where the lab was publishing it' });
  if (kind === 'attach' && wantOrNone && have) {
    const blocked = publishConflict(have);
    if (blocked) {
      ctx.conflicts.push({ node: name, netns, reason: blocked });
      return;
    }
  }
  if (!have?.exists) {
    if (wantOrNone) ctx.conflicts.push({ node: name, netns, reason: `the namespace of node ${name} (${wantOrNone.source ?? 'root'}) does not exist` });
    else if (unpublishes(have)) unpublish();
    return;
  }
  const want = wantOrNone ?? { ...emptyNode(name, netns, true, kind), source: have.source };
  const owned = ctx.options.partial?.get(name) ?? NOTHING_OWNED;
  const { view, conflicts } = labView(desired.lab, want, have, owned);
  ctx.conflicts.push(...conflicts.map((reason) => ({ node: name, netns, reason })));
  if (conflicts.length > 0) return;
  if (kind === 'attach' && wantOrNone && !have.published) {
    const leftover = have.publishBlocked === 'file';
    emit({ node: name, netns, kind: 'publish', action: 'create', source: want.source!, reason: leftover ? 'an empty file is left where an earlier run was publishing it' : 'ip netns does not see it yet' });
  }
  const emitted: Change[] = [];
  diffContents({ ...ctx, emit: (c) => (emitted.push(c as Change), emit(c)) }, want, view);
  restoreFlushedRoutes(ctx, have, view, emitted);
  if (!wantOrNone && unpublishes(have)) unpublish();
}

/**
 * The kernel flushes every IPv4 route through an interface when its last IPv4 address goes. When
 * the lab takes its address off an interface that is not its own and that was the last one, the
 * machine's routes through it are put back as they were (same protocol), after the delete.
 */
function restoreFlushedRoutes(ctx: Context, have: NodeState, view: NodeState, emitted: readonly Change[]): void {
  const deleted = new Map<string, Set<string>>();
  for (const c of emitted) {
    if (c.kind === 'address' && c.action === 'delete' && !c.cidr.includes(':')) deleted.set(c.dev, (deleted.get(c.dev) ?? new Set()).add(c.cidr));
  }
  for (const [dev, gone] of deleted) {
    const left = (have.links.get(dev)?.addresses ?? []).filter((a) => !a.includes(':') && !gone.has(a));
    if (left.length > 0) continue;
    for (const [key, route] of have.routes) {
      if (route.family !== 4 || route.dev !== dev || view.routes.has(key)) continue;
      ctx.emit({ node: have.node, netns: have.netns, kind: 'route', action: 'create', id: `route/${have.node}/${key}/restore`, route, reason: `not the lab's: the kernel drops it with ${dev}'s last address, so it is put back` });
    }
  }
}

export function diff(desired: LabState, actual: LabState, options: DiffOptions = {}): Plan {
  const changes: Change[] = [];
  const ctx: Context = {
    desired,
    actual,
    options,
    emit: (change) => changes.push({ ...change, id: change.id ?? changeId(change) } as Change),
    conflicts: [],
    doneVeths: new Set(),
    deletedEnds: new Set(),
  };
  const nodeNames = [...new Set([...desired.nodes.keys(), ...actual.nodes.keys()])].sort();
  for (const name of nodeNames) {
    const want = desired.nodes.get(name);
    const have = actual.nodes.get(name);
    if (ownsWholeNamespace((want ?? have)!.kind)) diffOwnedNode(ctx, name, want, have);
    else diffPartialNode(ctx, name, want, have);
  }
  return { lab: desired.lab, changes: changes.sort(compareChanges), conflicts: ctx.conflicts };
}
