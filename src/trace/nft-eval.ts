// Which rule of the lab's nftables chains decides for one packet, read from `nft -j list table`.
// Pure: the packet and the kernel's JSON in, the chains in hook order with their decision out.
// A match netlab cannot judge from the packet alone (a set it does not know, a mark, a jump) is
// said to be so ("cannot tell") rather than guessed.
import ipaddr from 'ipaddr.js';
import type { Family, NftHook } from '../model/types.js';

export type TraceProto = 'icmp' | 'tcp' | 'udp';

/** The packet as a chain sees it. */
export interface PacketView {
  family: Family;
  proto: TraceProto;
  src: string;
  dst: string;
  dport?: number;
  iif?: string;
  oif?: string;
  /** conntrack's view: the first packet of a flow is new, its replies established. */
  ctState: 'new' | 'established';
  /** Whether dst is an address of this node (fib daddr type local). */
  dstLocal: boolean;
}

export interface ChainJson {
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
}

export interface RuleJson {
  chain: string;
  handle: number;
  comment?: string;
  expr: unknown[];
}

export interface NatRewrite {
  /** dnat changes the destination, snat and masquerade the source. */
  kind: 'dnat' | 'snat' | 'masquerade';
  addr?: string;
  port?: number;
}

export interface ChainVerdict {
  chain: string;
  hook: NftHook;
  type: string;
  priority: number;
  /** accept, drop or reject; unknown: a rule's match could not be judged. */
  decision: 'accept' | 'drop' | 'reject' | 'unknown';
  /** The rule that decided, as nft would print it; undefined: the chain's policy did. */
  rule?: string;
  handle?: number;
  rewrite?: NatRewrite;
  /** Why the chain's verdict is unknown. */
  why?: string;
}

export interface ParsedTable {
  chains: ChainJson[];
  rules: RuleJson[];
}

export function parseTableJson(json: string): ParsedTable {
  const objects = (JSON.parse(json) as { nftables?: Array<{ chain?: ChainJson; rule?: RuleJson }> }).nftables ?? [];
  return { chains: objects.flatMap((o) => (o.chain ? [o.chain] : [])), rules: objects.flatMap((o) => (o.rule ? [o.rule] : [])) };
}

type Judged = boolean | 'unknown';

function l4protoName(view: PacketView): string {
  if (view.proto !== 'icmp') return view.proto;
  return view.family === 6 ? 'ipv6-icmp' : 'icmp';
}

/** The packet's value for a match's left side; undefined: not something netlab can tell. */
function leftValue(left: Record<string, unknown>, view: PacketView): string | number | undefined | null {
  const meta = left.meta as { key?: string } | undefined;
  if (meta) {
    if (meta.key === 'iifname' || meta.key === 'iif') return view.iif ?? null;
    if (meta.key === 'oifname' || meta.key === 'oif') return view.oif ?? null;
    if (meta.key === 'l4proto') return l4protoName(view);
    if (meta.key === 'nfproto') return view.family === 6 ? 'ipv6' : 'ipv4';
    return undefined;
  }
  const payload = left.payload as { protocol?: string; field?: string } | undefined;
  if (payload) {
    if (payload.protocol === 'ip' || payload.protocol === 'ip6') {
      // An ip match does not match an IPv6 packet (and the other way round) in an inet table.
      if ((payload.protocol === 'ip6') !== (view.family === 6)) return null;
      if (payload.field === 'saddr') return view.src;
      if (payload.field === 'daddr') return view.dst;
      return undefined;
    }
    if (payload.protocol === 'icmp' || payload.protocol === 'icmpv6') return icmpValue(payload.protocol, payload.field, view);
    if (payload.protocol === 'tcp' || payload.protocol === 'udp' || payload.protocol === 'th') {
      if (payload.protocol !== 'th' && payload.protocol !== view.proto) return null;
      if (view.proto === 'icmp') return null;
      if (payload.field === 'dport') return view.dport ?? undefined;
      return undefined;
    }
    return undefined;
  }
  const ct = left.ct as { key?: string } | undefined;
  if (ct?.key === 'state') return view.ctState;
  const fib = left.fib as { result?: string; flags?: string[] } | undefined;
  if (fib?.result === 'type' && fib.flags?.length === 1 && fib.flags[0] === 'daddr') return view.dstLocal ? 'local' : 'unicast';
  return undefined;
}

/**
 * An ICMP trace is an echo request and its reply: type echo-request (new) or echo-reply
 * (established), code 0. Another protocol, or the other ICMP, does not match.
 */
function icmpValue(protocol: 'icmp' | 'icmpv6', field: string | undefined, view: PacketView): string | number | null | undefined {
  if (view.proto !== 'icmp' || (protocol === 'icmpv6') !== (view.family === 6)) return null;
  if (field === 'type') return view.ctState === 'new' ? 'echo-request' : 'echo-reply';
  if (field === 'code') return 0;
  return undefined;
}

/** A TCP trace is a connection's first packet and its answer: a SYN (new), a SYN-ACK (established). */
function tcpFlags(view: PacketView): string[] {
  return view.ctState === 'new' ? ['syn'] : ['syn', 'ack'];
}

function flagList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return undefined;
}

function isTcpFlags(left: unknown): boolean {
  const payload = (left as { payload?: { protocol?: string; field?: string } } | undefined)?.payload;
  return payload?.protocol === 'tcp' && payload.field === 'flags';
}

/**
 * `tcp flags & (syn | rst) == syn`, as nft -j writes it: {"&": [tcp flags, mask]} against a
 * value; with nothing set, nft keeps it as `tcp flags ! ack` (op "!": none of them set).
 */
function judgeTcpFlags(match: { op?: string; left?: unknown; right?: unknown }, view: PacketView): Judged | undefined {
  const and = (match.left as { '&'?: unknown[] } | undefined)?.['&'];
  const plain = isTcpFlags(match.left);
  if (!plain && !(and && isTcpFlags(and[0]))) return undefined;
  if (view.proto !== 'tcp') return match.op === '!=';
  if (plain) {
    const named = flagList(match.right);
    if (!named) return 'unknown';
    if (match.op === '!') return !tcpFlags(view).some((f) => named.includes(f));
    if (match.op === '==') return named.length === tcpFlags(view).length && named.every((f) => tcpFlags(view).includes(f));
    return 'unknown';
  }
  const mask = flagList(and![1]);
  const want = match.right === 0 || match.right === '0x0' ? [] : flagList(match.right);
  if (!mask || !want) return 'unknown';
  const masked = tcpFlags(view).filter((f) => mask.includes(f));
  const same = masked.length === want.length && want.every((f) => masked.includes(f));
  if (match.op === '!=') return !same;
  return match.op === '==' || match.op === undefined ? same : 'unknown';
}

function inPrefix(value: string, prefix: { addr: string; len: number }): boolean {
  try {
    const a = ipaddr.parse(value);
    const net = ipaddr.parse(prefix.addr);
    return a.kind() === net.kind() && a.match(net, prefix.len);
  } catch {
    return false;
  }
}

function sameValue(value: string | number, right: unknown): Judged {
  if (typeof right === 'string' || typeof right === 'number') {
    if (typeof value === 'string' && typeof right === 'string' && ipaddr.isValid(value) && ipaddr.isValid(right)) {
      return ipaddr.parse(value).toString() === ipaddr.parse(right).toString();
    }
    return String(value) === String(right);
  }
  if (right && typeof right === 'object') {
    const r = right as { prefix?: { addr: string; len: number }; range?: [number, number]; set?: unknown[] };
    if (r.prefix) return typeof value === 'string' && inPrefix(value, r.prefix);
    if (r.range) return typeof value === 'number' && value >= r.range[0] && value <= r.range[1];
    if (r.set) {
      const each = r.set.map((item) => sameValue(value, item));
      if (each.includes(true)) return true;
      return each.includes('unknown') ? 'unknown' : false;
    }
  }
  return 'unknown';
}

function judgeMatch(match: { op?: string; left?: unknown; right?: unknown }, view: PacketView): Judged {
  const flags = judgeTcpFlags(match, view);
  if (flags !== undefined) return flags;
  const value = leftValue((match.left ?? {}) as Record<string, unknown>, view);
  if (value === undefined) return 'unknown';
  // null: the packet has no such field (no oif before routing, a TCP port of an ICMP packet): no match.
  if (value === null) return match.op === '!=' ? true : false;
  const same = sameValue(value, match.right);
  if (same === 'unknown') return same;
  if (match.op === '!=') return !same;
  if (match.op === '==' || match.op === 'in' || match.op === undefined) return same;
  return 'unknown';
}

/** A rule as text, close to nft's own: "iifname eth0 tcp dport 1234 dnat to 172.18.0.10:11211". */
export function ruleText(expr: unknown[]): string {
  const words: string[] = [];
  const valueText = (v: unknown): string => {
    if (v && typeof v === 'object') {
      const o = v as { prefix?: { addr: string; len: number }; set?: unknown[]; range?: unknown[] };
      if (o.prefix) return `${o.prefix.addr}/${o.prefix.len}`;
      if (o.set) return `{ ${o.set.map(valueText).join(', ')} }`;
      if (o.range) return o.range.map(valueText).join('-');
      return JSON.stringify(v);
    }
    return String(v);
  };
  const leftText = (l: Record<string, unknown>): string => {
    const meta = l.meta as { key?: string } | undefined;
    if (meta) return meta.key === 'l4proto' ? 'meta l4proto' : String(meta.key);
    const p = l.payload as { protocol?: string; field?: string } | undefined;
    if (p) return `${p.protocol} ${p.field}`;
    const ct = l.ct as { key?: string } | undefined;
    if (ct) return `ct ${ct.key}`;
    const fib = l.fib as { result?: string; flags?: string[] } | undefined;
    if (fib) return `fib ${(fib.flags ?? []).join(' . ')} ${fib.result}`;
    const and = l['&'] as [Record<string, unknown>, unknown] | undefined;
    if (and) return `${leftText(and[0])} & ${flagList(and[1])?.join(' | ') ?? valueText(and[1])} ==`;
    return JSON.stringify(l);
  };
  for (const e of expr as Array<Record<string, unknown>>) {
    const [key, body] = Object.entries(e)[0] ?? [];
    if (key === 'match') {
      const m = body as { op?: string; left?: Record<string, unknown>; right?: unknown };
      const op = m.op === '!=' ? '!= ' : '';
      words.push(`${leftText(m.left ?? {})} ${op}${valueText(m.right)}`);
    } else if (key === 'dnat' || key === 'snat') {
      const n = body as { addr?: string; port?: number };
      words.push(`${key} to ${n.addr ?? ''}${n.port !== undefined ? `:${n.port}` : ''}`);
    } else if (key === 'reject') {
      words.push('reject');
    } else if (key === 'counter' || key === 'log') {
      continue;
    } else if (key !== undefined) {
      words.push(body === null ? key : `${key} ${valueText(body)}`);
    }
  }
  return words.join(' ');
}

type Statement = { final?: ChainVerdict['decision']; rewrite?: NatRewrite; unknown?: string };

function statementOf(e: Record<string, unknown>): Statement | 'match' | 'ignore' {
  const [key, body] = Object.entries(e)[0] ?? [];
  if (key === 'match') return 'match';
  if (key === 'accept' || key === 'drop' || key === 'reject') return { final: key };
  if (key === 'dnat' || key === 'snat') {
    const n = body as { addr?: string; port?: number };
    return { final: 'accept', rewrite: { kind: key, ...(n.addr ? { addr: n.addr } : {}), ...(n.port !== undefined ? { port: n.port } : {}) } };
  }
  if (key === 'masquerade') return { final: 'accept', rewrite: { kind: 'masquerade' } };
  if (key === 'counter' || key === 'log' || key === 'comment') return 'ignore';
  // meta nftrace set 1, mangle: no verdict. jump, goto, return and the rest: not followed.
  if (key === 'mangle') return 'ignore';
  return { unknown: `the rule's ${key ?? 'statement'} is not followed` };
}

/**
 * The lab's chains on one hook, in priority order, each with the rule that decides. The first
 * chain that drops or rejects ends the list: later chains never see the packet. NAT chains are
 * consulted for the first packet of a flow only (conntrack handles the rest).
 */
export function judgeHook(table: ParsedTable, hook: NftHook, view: PacketView): ChainVerdict[] {
  const chains = table.chains
    .filter((c) => c.hook === hook)
    .filter((c) => c.type !== 'nat' || view.ctState === 'new')
    .sort((a, b) => (a.prio ?? 0) - (b.prio ?? 0));
  const verdicts: ChainVerdict[] = [];
  for (const chain of chains) {
    const verdict = judgeChain(table, chain, hook, view);
    verdicts.push(verdict);
    if (verdict.decision !== 'accept') break;
  }
  return verdicts;
}

function judgeChain(table: ParsedTable, chain: ChainJson, hook: NftHook, view: PacketView): ChainVerdict {
  const base = { chain: chain.name, hook, type: chain.type ?? 'filter', priority: chain.prio ?? 0 };
  for (const rule of table.rules.filter((r) => r.chain === chain.name)) {
    let matched: Judged = true;
    let statement: Statement | undefined;
    for (const e of rule.expr as Array<Record<string, unknown>>) {
      const s = statementOf(e);
      if (s === 'ignore') continue;
      if (s === 'match') {
        const judged = judgeMatch(e.match as { op?: string }, view);
        if (judged === false) {
          matched = false;
          break;
        }
        if (judged === 'unknown') matched = 'unknown';
        continue;
      }
      statement = s;
      break;
    }
    if (matched === false || !statement) continue;
    const text = ruleText(rule.expr);
    if (matched === 'unknown') return { ...base, decision: 'unknown', rule: text, handle: rule.handle, why: 'cannot tell whether the rule matches this packet' };
    if (statement.unknown) return { ...base, decision: 'unknown', rule: text, handle: rule.handle, why: statement.unknown };
    return { ...base, decision: statement.final!, rule: text, handle: rule.handle, ...(statement.rewrite ? { rewrite: statement.rewrite } : {}) };
  }
  return { ...base, decision: chain.policy === 'drop' ? 'drop' : 'accept' };
}
