// A trace for people (one block per hop, then the verdict) and for tools (JSON). Pure.
import type { ChainVerdict } from './nft-eval.js';
import type { Hop, RouteAnswer, Trace } from './walk.js';

/** A chain's verdict as `nft monitor trace` reported it for the probe's first packet. */
export interface NftTraced {
  node: string;
  chain: string;
  rule?: string;
  verdict: string;
  /** The decision the explanation gave the chain. */
  explained: string;
  agrees: boolean;
}

/** What the real probe did, and whether it agrees with the explanation. */
export interface ProbeCheck {
  /** "ping 198.51.100.1 from netns0", "tcp connect to 198.51.100.100:1234 from internet". */
  probe: string;
  reached: boolean;
  why: string;
  agrees: boolean;
  /** The port the check served a listener on, where nothing listened. */
  served?: string;
  /** What nft tracing saw, where the lab has chains on the way. */
  nft?: NftTraced[];
  /** --capture: the probe's packets on each interface it crossed, labelled by hop, in time order. */
  packets?: string[];
}

function routeText(route: RouteAnswer): string {
  if (route.type === 'local') return 'local (an address of this node)';
  if (route.type !== 'unicast') return `${route.type} route`;
  const parts = [route.gateway ? `via ${route.gateway}` : 'directly connected', route.dev ? `dev ${route.dev}` : undefined, route.prefsrc ? `src ${route.prefsrc}` : undefined];
  return parts.filter(Boolean).join(' ');
}

function chainText(c: ChainVerdict): string {
  const by = c.rule ? `rule "${c.rule}"` : 'policy (no rule matched)';
  const decision = c.decision === 'unknown' ? `cannot tell: ${c.why}` : c.decision;
  return `nft ${c.chain} (${c.hook}, ${c.type}): ${by} → ${decision}`;
}

function hopLines(hop: Hop, n: number): string[] {
  const port = hop.dport !== undefined ? `:${hop.dport}` : '';
  const lines = [`  ${n}. ${hop.node}${hop.iif ? ` (in ${hop.iif})` : ''}: ${hop.src || '?'} → ${hop.dst}${port}`];
  const detail = (text: string) => lines.push(`       ${text}`);
  if (hop.forwarding) detail(`forwarding: ${hop.forwarding.key} = ${hop.forwarding.on ? '1' : '0'}`);
  if (hop.rpFilter) detail(`rp_filter ${hop.rpFilter.mode}: the way back leaves by ${hop.rpFilter.reverseDev ?? 'nothing'} — ${hop.rpFilter.passes ? 'passes' : 'fails'}`);
  if (hop.route) detail(`route: ${routeText(hop.route)}`);
  for (const c of hop.chains) detail(chainText(c));
  for (const r of hop.rewrites) detail(`rewrite: ${r}`);
  if (hop.egress) {
    const e = hop.egress;
    const to = e.owner ? ` → ${e.owner} has it` : e.leadsTo ? ` → leads to ${e.leadsTo}, none of which has it` : ' → outside the lab';
    detail(`next hop ${e.nextHop} on ${e.dev}, neighbour ${e.neighbour}${to}`);
  }
  if (hop.end) detail(`${hop.end.kind}: ${hop.end.why}`);
  return lines;
}

export function renderTrace(lab: string, trace: Trace, check?: ProbeCheck): string {
  const r = trace.request;
  const lines = [`Trace in lab ${lab}: ${r.from} → ${r.dst}${r.port !== undefined ? `:${r.port}` : ''} (${r.proto}${r.source ? `, from ${r.source}` : ''})`];
  for (const direction of ['request', 'reply'] as const) {
    const hops = trace.hops.filter((h) => h.direction === direction);
    if (hops.length === 0) continue;
    lines.push(`${direction}:`);
    hops.forEach((h, i) => lines.push(...hopLines(h, i + 1)));
  }
  lines.push(`verdict: ${trace.verdict}`);
  if (check) {
    const served = check.served ? ` (netlab served ${check.served} for it)` : '';
    if (check.packets) {
      lines.push(`packets on the way (${check.packets.length}):`);
      for (const p of check.packets) lines.push(`  ${p}`);
    }
    for (const n of check.nft ?? []) {
      const by = n.rule ? `rule "${n.rule}"` : 'policy';
      lines.push(`nft trace at ${n.node}: ${n.chain}: ${by} → ${n.verdict} (${n.explained === 'unknown' ? 'what the explanation could not tell' : n.agrees ? 'as explained' : `explained: ${n.explained}`})`);
    }
    lines.push(`check: ${check.probe}${served}: ${check.reached ? 'got through' : 'did not get through'} (${check.why}) — ${check.agrees ? 'the kernel agrees' : 'the kernel DISAGREES with this explanation'}`);
  }
  return lines.join('\n');
}

export function traceToJson(lab: string, trace: Trace, check?: ProbeCheck): object {
  return { lab, ...trace, ...(check ? { check } : {}) };
}
