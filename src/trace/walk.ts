// Follows one packet hop by hop through an applied lab, and its reply back, from the kernel's
// own answers: at each node the route `ip route get` picks, the forwarding and rp_filter
// sysctls, the lab's nftables chains, the neighbour entry, and where the egress interface leads
// (the lab's veth pairs and bridges). The answers come through TraceKernel, so this module does
// no IO itself: unit tests feed it captured JSON.
import type { RunResult } from '../kernel/runner.js';
import { canonicalIp, familyOf, ipOfCidr } from '../model/ip.js';
import type { Family, LabState, NftHook } from '../model/types.js';
import { actualPeerEnds } from '../resources/veth-pairing.js';
import { judgeHook, type ChainVerdict, type ParsedTable, type PacketView, type TraceProto } from './nft-eval.js';

/** What the walk asks the kernel, per node of the lab. */
export interface TraceKernel {
  /** `ip -j route get DST [from SRC] [iif IIF]` in the node. */
  routeGet(node: string, family: Family, dst: string, from?: string, iif?: string): Promise<RunResult>;
  /** `sysctl -n KEY...` in the node; a key the kernel lacks is missing from the map. */
  sysctls(node: string, keys: readonly string[]): Promise<Map<string, string>>;
  /** The neighbour entry's state (REACHABLE, STALE, FAILED, ...); undefined: no entry. */
  neighbour(node: string, family: Family, dev: string, address: string): Promise<string | undefined>;
  /** The lab's nftables table in the node; undefined: it has none. */
  table(node: string): Promise<ParsedTable | undefined>;
  /** Whether a socket listens on the port (`ss -H -ltn` / `-lun`). */
  listening(node: string, proto: 'tcp' | 'udp', port: number): Promise<boolean>;
}

export interface TraceRequest {
  from: string;
  dst: string;
  proto: TraceProto;
  port?: number;
  source?: string;
}

export interface RouteAnswer {
  type: string;
  dev?: string;
  gateway?: string;
  prefsrc?: string;
}

export type EndKind = 'delivered' | 'dropped' | 'leaves' | 'unknown';

export interface Hop {
  node: string;
  direction: 'request' | 'reply';
  /** Where the packet came in; undefined where it starts. */
  iif?: string;
  /** The packet as this node received (or sent) it, before its own NAT. */
  src: string;
  dst: string;
  dport?: number;
  route?: RouteAnswer;
  /** The forwarding sysctl and its value, at a node that forwards. */
  forwarding?: { key: string; on: boolean };
  rpFilter?: { mode: number; reverseDev?: string; passes: boolean };
  chains: ChainVerdict[];
  /** "source 172.18.0.10 → 198.51.100.100 (masquerade)": what the next hop sees instead. */
  rewrites: string[];
  egress?: { dev: string; nextHop: string; neighbour: string; leadsTo?: string; owner?: string };
  end?: { kind: EndKind; why: string; listening?: boolean };
}

export interface Trace {
  request: TraceRequest & { family: Family };
  hops: Hop[];
  /** Whether the request arrives and (its reply) comes back: what the real probe should see. */
  reaches: boolean;
  /** The end of the path that decides, request or reply. */
  end: { kind: EndKind; node: string; why: string; direction: 'request' | 'reply' };
  verdict: string;
}

interface Packet {
  family: Family;
  proto: TraceProto;
  src?: string;
  dst: string;
  dport?: number;
}

interface NatMemo {
  node: string;
  kind: 'snat' | 'dnat';
  before: string;
  after: string;
  beforePort?: number;
}

const MAX_HOPS = 32;

export function parseRouteGet(result: RunResult): RouteAnswer | string {
  if (result.exitCode !== 0) return result.stderr.trim().split('\n').pop()?.replace(/^RTNETLINK answers: /, '') || `ip route get exited ${result.exitCode}`;
  const route = (JSON.parse(result.stdout) as Array<Record<string, string>>)[0];
  if (!route) return 'ip route get printed no route';
  return {
    type: route.type ?? 'unicast',
    ...(route.dev ? { dev: route.dev } : {}),
    ...(route.gateway ? { gateway: canonicalIp(route.gateway) } : {}),
    ...(route.prefsrc ? { prefsrc: canonicalIp(route.prefsrc) } : {}),
  };
}

function addressesOf(lab: LabState, node: string): string[] {
  return [...(lab.nodes.get(node)?.links.values() ?? [])].flatMap((l) => l.addresses.map(ipOfCidr));
}

function ownsAddress(lab: LabState, node: string, address: string): boolean {
  return addressesOf(lab, node).includes(address) || /^127\./.test(address) || address === '::1';
}

/** The other ends of a veth, as the kernel pairs them. */
function vethEnds(lab: LabState, node: string, name: string): Array<{ node: string; name: string }> {
  return actualPeerEnds(lab.nodes, node, name).filter((end) => end.node !== node);
}

/**
 * Where an egress interface leads, as far as one L2 segment goes: the other ends of its veth, or
 * of its bridge's ports; an end that is itself a bridge port reaches that bridge (its own
 * addresses) and, through it, the far ends of the bridge's other ports.
 */
export function leadsTo(lab: LabState, node: string, dev: string): Array<{ node: string; iface: string }> {
  const links = lab.nodes.get(node)?.links;
  const link = links?.get(dev);
  if (!link) return [];
  const ports = link.type === 'bridge' ? [...links!.values()].filter((l) => l.master === dev) : [link];
  const found: Array<{ node: string; iface: string }> = [];
  for (const port of ports) {
    for (const end of vethEnds(lab, node, port.name)) {
      const bridge = lab.nodes.get(end.node)?.links.get(end.name)?.master;
      if (!bridge) {
        found.push({ node: end.node, iface: end.name });
        continue;
      }
      found.push({ node: end.node, iface: bridge });
      const others = [...(lab.nodes.get(end.node)?.links.values() ?? [])].filter((l) => l.master === bridge && l.name !== end.name);
      for (const other of others) for (const far of vethEnds(lab, end.node, other.name)) if (far.node !== node) found.push({ node: far.node, iface: lab.nodes.get(far.node)?.links.get(far.name)?.master ?? far.name });
    }
  }
  return found;
}

function forwardingKey(family: Family): string {
  return family === 6 ? 'net.ipv6.conf.all.forwarding' : 'net.ipv4.ip_forward';
}

/**
 * Why `ip route get` found no way. The kernel answers a route of type blackhole with EINVAL,
 * unreachable with EHOSTUNREACH and prohibit with EACCES, where no route at all is ENETUNREACH.
 */
export function noRouteWhy(dst: string, message: string): string {
  const said = message.toLowerCase();
  if (/invalid argument/.test(said)) return `a blackhole route swallows ${dst} (the kernel answers: ${said})`;
  if (/no route to host/.test(said)) return `an unreachable route for ${dst} (the kernel answers: ${said})`;
  if (/permission denied/.test(said)) return `a prohibit route for ${dst} (the kernel answers: ${said})`;
  return `no route to ${dst} (${said})`;
}

const DROPPING_ROUTES = new Set(['unreachable', 'blackhole', 'prohibit', 'throw']);

interface Walking {
  lab: LabState;
  kernel: TraceKernel;
  hops: Hop[];
  nat: NatMemo[];
}

interface Ended {
  kind: EndKind;
  node: string;
  why: string;
  /** The packet as delivered. */
  packet: Required<Pick<Packet, 'src'>> & Packet;
}

function view(packet: Packet, node: string, lab: LabState, ct: 'new' | 'established', iif?: string, oif?: string): PacketView {
  return { family: packet.family, proto: packet.proto, src: packet.src ?? '', dst: packet.dst, dport: packet.dport, iif, oif, ctState: ct, dstLocal: ownsAddress(lab, node, packet.dst) };
}

async function chainsAt(w: Walking, hop: Hop, hook: NftHook, packet: Packet, ct: 'new' | 'established', iif?: string, oif?: string): Promise<ChainVerdict | undefined> {
  const table = await w.kernel.table(hop.node);
  if (!table) return undefined;
  const verdicts = judgeHook(table, hook, view(packet, hop.node, w.lab, ct, iif, oif));
  hop.chains.push(...verdicts);
  return verdicts.find((v) => v.decision !== 'accept');
}

function chainEnd(stopped: ChainVerdict): { kind: EndKind; why: string } {
  const by = stopped.rule ? `rule "${stopped.rule}"` : `the chain's policy ${stopped.decision}`;
  if (stopped.decision === 'unknown') return { kind: 'unknown', why: `chain ${stopped.chain} (${stopped.hook}): ${stopped.why} (${stopped.rule})` };
  return { kind: 'dropped', why: `${stopped.decision === 'reject' ? 'rejected' : 'dropped'} in chain ${stopped.chain} (${stopped.hook}) by ${by}` };
}

/** NAT the first packet of a flow gets from the chains just judged; remembered for its reply. */
function applyRewrites(w: Walking, hop: Hop, packet: Packet, hook: NftHook, masqueradeSource?: string): void {
  for (const c of hop.chains.filter((v) => v.hook === hook && v.rewrite)) {
    const r = c.rewrite!;
    if (r.kind === 'dnat' && r.addr) {
      w.nat.push({ node: hop.node, kind: 'dnat', before: packet.dst, after: r.addr, beforePort: packet.dport });
      hop.rewrites.push(`destination ${packet.dst}${packet.dport !== undefined ? `:${packet.dport}` : ''} → ${r.addr}${r.port !== undefined ? `:${r.port}` : ''} (dnat in ${c.chain})`);
      packet.dst = r.addr;
      if (r.port !== undefined && packet.dport !== undefined) packet.dport = r.port;
    } else if ((r.kind === 'snat' && r.addr) || (r.kind === 'masquerade' && masqueradeSource)) {
      const to = r.kind === 'snat' ? r.addr! : masqueradeSource!;
      w.nat.push({ node: hop.node, kind: 'snat', before: packet.src!, after: to });
      hop.rewrites.push(`source ${packet.src} → ${to} (${r.kind} in ${c.chain})`);
      packet.src = to;
    }
  }
}

/** conntrack on a reply: what the request's NAT at this node changed, changed back. */
function unNat(w: Walking, hop: Hop, packet: Packet, kind: 'snat' | 'dnat'): void {
  for (const m of w.nat.filter((n) => n.node === hop.node && n.kind === kind)) {
    if (kind === 'snat' && packet.dst === m.after) {
      hop.rewrites.push(`destination ${packet.dst} → ${m.before} (conntrack undoes the source NAT)`);
      packet.dst = m.before;
    }
    if (kind === 'dnat' && packet.src === m.after) {
      hop.rewrites.push(`source ${packet.src} → ${m.before} (conntrack undoes the destination NAT)`);
      packet.src = m.before;
    }
  }
}

async function routeOf(w: Walking, node: string, packet: Packet, iif?: string): Promise<RouteAnswer | string> {
  return parseRouteGet(await w.kernel.routeGet(node, packet.family, packet.dst, packet.src, iif));
}

async function delivered(w: Walking, hop: Hop, packet: Packet, ct: 'new' | 'established', iif: string | undefined): Promise<{ kind: EndKind; why: string }> {
  const stopped = await chainsAt(w, hop, 'input', packet, ct, iif);
  if (stopped) return chainEnd(stopped);
  if (packet.proto === 'icmp' || packet.dport === undefined || ct === 'established') {
    return { kind: 'delivered', why: `delivered to ${packet.dst}, an address of ${hop.node}` };
  }
  const listening = await w.kernel.listening(hop.node, packet.proto, packet.dport);
  hop.end = { kind: 'delivered', why: '', listening };
  const port = `${packet.proto} port ${packet.dport}`;
  return { kind: 'delivered', why: `delivered to ${packet.dst}, an address of ${hop.node}; ${listening ? `something listens on ${port}` : `nothing listens on ${port} (a connection would be refused)`}` };
}

/**
 * One direction: from `start` (where the packet is made) until it is delivered, dropped, leaves
 * the lab, or cannot be told.
 */
async function walkOne(w: Walking, start: string, first: Packet, direction: 'request' | 'reply'): Promise<Ended> {
  const ct = direction === 'request' ? 'new' : 'established';
  const packet: Packet = { ...first };
  let node = start;
  let iif: string | undefined;
  for (let n = 0; n < MAX_HOPS; n++) {
    const hop: Hop = { node, direction, ...(iif ? { iif } : {}), src: packet.src ?? '', dst: packet.dst, ...(packet.dport !== undefined ? { dport: packet.dport } : {}), chains: [], rewrites: [] };
    w.hops.push(hop);
    const end = (kind: EndKind, why: string): Ended => {
      hop.end = { ...hop.end, kind, why };
      return { kind, node, why, packet: { ...packet, src: packet.src ?? '' } };
    };
    let route: RouteAnswer | string;
    if (iif === undefined) {
      // Made here: routed first (which picks the source), then OUTPUT, whose DNAT routes it again.
      route = await routeOf(w, node, packet);
      if (typeof route === 'string') return end('dropped', noRouteWhy(packet.dst, route));
      packet.src ??= route.prefsrc;
      hop.src = packet.src ?? '';
      const stopped = await chainsAt(w, hop, 'output', packet, ct, undefined, route.dev);
      if (stopped) return end(chainEnd(stopped).kind, chainEnd(stopped).why);
      const before = packet.dst;
      applyRewrites(w, hop, packet, 'output');
      if (packet.dst !== before) {
        route = await routeOf(w, node, packet);
        if (typeof route === 'string') return end('dropped', noRouteWhy(packet.dst, route));
      }
      hop.route = route;
      if (route.type === 'local') {
        const d = await delivered(w, hop, packet, ct, undefined);
        return end(d.kind, d.why);
      }
    } else {
      if (direction === 'reply') unNat(w, hop, packet, 'snat');
      const stopped = await chainsAt(w, hop, 'prerouting', packet, ct, iif);
      if (stopped) return end(chainEnd(stopped).kind, chainEnd(stopped).why);
      applyRewrites(w, hop, packet, 'prerouting');
      route = await routeOf(w, node, packet, iif);
      const forwardKey = forwardingKey(packet.family);
      const rpKeys = packet.family === 4 ? ['net.ipv4.conf.all.rp_filter', `net.ipv4.conf.${iif}.rp_filter`] : [];
      const sysctls = await w.kernel.sysctls(node, [forwardKey, ...rpKeys]);
      const local = typeof route !== 'string' && route.type === 'local';
      if (!local) hop.forwarding = { key: forwardKey, on: sysctls.get(forwardKey) === '1' };
      // The kernel uses the larger of all and the interface's own rp_filter.
      const rpMode = Math.max(...rpKeys.map((k) => Number(sysctls.get(k) ?? 0)), 0);
      if (packet.family === 4 && rpMode > 0) {
        const reverse = parseRouteGet(await w.kernel.routeGet(node, packet.family, packet.src ?? '', undefined, undefined));
        const reverseDev = typeof reverse === 'string' ? undefined : reverse.dev;
        // Strict (1): the way back must be the way in; loose (2): any way back will do.
        const passes = rpMode === 2 ? reverseDev !== undefined : reverseDev === iif;
        hop.rpFilter = { mode: rpMode, ...(reverseDev ? { reverseDev } : {}), passes };
        if (!passes) return end('dropped', `rp_filter (${rpMode === 1 ? 'strict' : 'loose'}) drops it: the route back to ${packet.src} leaves by ${reverseDev ?? 'nothing'}, not ${iif}`);
      }
      if (hop.forwarding && !hop.forwarding.on) return end('dropped', `${node} does not forward: ${forwardKey} is ${sysctls.get(forwardKey) ?? 'unset'}`);
      if (typeof route === 'string') return end('dropped', noRouteWhy(packet.dst, route));
      hop.route = route;
      if (local) {
        const d = await delivered(w, hop, packet, ct, iif);
        return end(d.kind, d.why);
      }
      const forwardStop = await chainsAt(w, hop, 'forward', packet, ct, iif, route.dev);
      if (forwardStop) return end(chainEnd(forwardStop).kind, chainEnd(forwardStop).why);
    }
    if (DROPPING_ROUTES.has(route.type)) return end('dropped', `the route to ${packet.dst} is of type ${route.type}`);
    const dev = route.dev!;
    const nextHop = route.gateway ?? packet.dst;
    const post = await chainsAt(w, hop, 'postrouting', packet, ct, iif, dev);
    if (post) return end(chainEnd(post).kind, chainEnd(post).why);
    if (hop.chains.some((c) => c.hook === 'postrouting' && c.rewrite?.kind === 'masquerade')) {
      // Masquerade takes the address the kernel would pick as source towards the next hop on dev.
      const towards = parseRouteGet(await w.kernel.routeGet(node, packet.family, nextHop));
      applyRewrites(w, hop, packet, 'postrouting', typeof towards === 'string' ? undefined : towards.prefsrc);
    } else applyRewrites(w, hop, packet, 'postrouting');
    if (direction === 'reply') unNat(w, hop, packet, 'dnat');

    const neighbour = (await w.kernel.neighbour(node, packet.family, dev, nextHop)) ?? 'none yet';
    const ends = leadsTo(w.lab, node, dev);
    const owner = ends.find((e) => ownsAddress(w.lab, e.node, nextHop));
    hop.egress = { dev, nextHop, neighbour, ...(ends.length ? { leadsTo: ends.map((e) => `${e.node}:${e.iface}`).join(', ') } : {}), ...(owner ? { owner: owner.node } : {}) };
    if (ends.length === 0) return end('leaves', `leaves the lab by ${dev} towards ${nextHop}`);
    if (!owner) {
      const there = ends.map((e) => `${e.node} (${addressesOf(w.lab, e.node).join(', ') || 'no address'})`).join(', ');
      return end('dropped', `no node behind ${dev} has ${nextHop}: ${dev} leads to ${there}, so ${packet.family === 6 ? 'neighbour discovery' : 'ARP'} for ${nextHop} gets no answer`);
    }
    node = owner.node;
    iif = owner.iface;
  }
  return { kind: 'unknown', node, why: `more than ${MAX_HOPS} hops: a routing loop`, packet: { ...packet, src: packet.src ?? '' } };
}

function sourceNote(w: Walking): string {
  const rewrites = w.hops.filter((h) => h.direction === 'request').flatMap((h) => h.rewrites.map((r) => `${r} at ${h.node}`));
  return rewrites.length ? ` (${rewrites.join('; ')})` : '';
}

export async function trace(lab: LabState, kernel: TraceKernel, request: TraceRequest): Promise<Trace> {
  const family = familyOf(request.dst);
  const w: Walking = { lab, kernel, hops: [], nat: [] };
  const first: Packet = { family, proto: request.proto, dst: canonicalIp(request.dst), ...(request.source ? { src: canonicalIp(request.source) } : {}), ...(request.port !== undefined ? { dport: request.port } : {}) };
  const what = `${request.from} → ${request.dst}${request.port !== undefined ? `:${request.port}` : ''} (${request.proto})`;
  const there = await walkOne(w, request.from, first, 'request');
  const full = { ...request, family };
  if (there.kind !== 'delivered') {
    const verdict = there.kind === 'leaves' ? `${what}: ${there.why} at ${there.node}; what happens beyond is outside the lab` : `${what}: ${there.kind === 'unknown' ? 'cannot tell' : 'never arrives'} — at ${there.node}, ${there.why}`;
    return { request: full, hops: w.hops, reaches: false, end: { kind: there.kind, node: there.node, why: there.why, direction: 'request' }, verdict };
  }
  // The reply: from the address the request reached, to the source it arrived with.
  const reply: Packet = { family, proto: request.proto, src: there.packet.dst, dst: there.packet.src };
  const back = await walkOne(w, there.node, reply, 'reply');
  const home = back.kind === 'delivered' && back.node === request.from;
  const end = { kind: back.kind, node: back.node, why: back.why, direction: 'reply' as const };
  const verdict = home
    ? `${what}: reaches ${there.node} and the reply comes back${sourceNote(w)}`
    : `${what}: reaches ${there.node}, but the reply ${back.kind === 'delivered' ? `ends at ${back.node}, not ${request.from}` : back.kind === 'leaves' ? 'leaves the lab' : 'never comes back'} — at ${back.node}, ${back.why}`;
  return { request: full, hops: w.hops, reaches: home, end, verdict };
}
