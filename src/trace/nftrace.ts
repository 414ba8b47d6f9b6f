// What nftables itself says matched, for the probe's packets: a temporary chain in the lab's own
// table sets `meta nftrace set 1` on every packet first (before any other chain, on prerouting
// and output), `nft monitor trace` in the node reports each chain's verdict, and the chain goes
// again when the probe is done. The parsing is pure; the chains and monitors are IO.
import { spawn } from 'node:child_process';
import { enterPath, inNamespace, type Runner } from '../kernel/runner.js';
import { netnsPath } from '../kernel/paths.js';
import { nftTableName } from '../model/nft.js';
import type { LabState } from '../model/types.js';

/** The temporary chains' names: never a chain the lab makes (those are nat_* and the hook names). */
export const TRACE_CHAINS = ['netlab_trace_pre', 'netlab_trace_out'] as const;

export interface TracedVerdict {
  chain: string;
  /** The rule as nft prints it; undefined: the chain's policy. */
  rule?: string;
  verdict: string;
}

interface TraceLine {
  id: string;
  chain: string;
  kind: 'packet' | 'rule' | 'policy';
  text: string;
  verdict?: string;
}

const LINE = /^trace id (\w+) \S+ \S+ (\S+) (packet: |rule |policy )(.*)$/;

export function parseMonitorTrace(output: string): TraceLine[] {
  return output.split('\n').flatMap((line): TraceLine[] => {
    const m = LINE.exec(line.trim());
    if (!m) return [];
    const [, id, chain, kind, rest] = m as unknown as [string, string, string, string, string];
    if (kind === 'packet: ') return [{ id, chain, kind: 'packet', text: rest }];
    if (kind === 'policy ') return [{ id, chain, kind: 'policy', text: '', verdict: rest.trim() }];
    const verdict = /\(verdict (\w+)[^)]*\)\s*$/.exec(rest)?.[1];
    const text = rest.replace(/\s*\(verdict [^)]*\)\s*$/, '').replace(/\s*comment "[^"]*"$/, '');
    return [{ id, chain, kind: 'rule', text, ...(verdict ? { verdict } : {}) }];
  });
}

/**
 * The verdict of each of the lab's chains for the first packet that came into the node as
 * `src → dst` (its first trace line carries those addresses): which rule decided, or the policy.
 */
export function verdictsFor(lines: readonly TraceLine[], src: string, dst: string): TracedVerdict[] {
  const family = src.includes(':') ? 'ip6' : 'ip';
  const first = lines.find((l) => l.kind === 'packet' && l.text.includes(`${family} saddr ${src} `) && l.text.includes(`${family} daddr ${dst} `));
  if (!first) return [];
  const verdicts: TracedVerdict[] = [];
  for (const l of lines.filter((x) => x.id === first.id && !(TRACE_CHAINS as readonly string[]).includes(x.chain))) {
    // A rule whose verdict is "continue" did not decide; a chain's first deciding line does.
    if (l.kind === 'packet' || !l.verdict || l.verdict === 'continue') continue;
    if (verdicts.some((v) => v.chain === l.chain)) continue;
    verdicts.push({ chain: l.chain, ...(l.kind === 'rule' ? { rule: l.text } : {}), verdict: l.verdict });
  }
  return verdicts;
}

export function addTraceChainsScript(table: string): string {
  return [
    `add chain inet ${table} ${TRACE_CHAINS[0]} { type filter hook prerouting priority -400; }`,
    `add rule inet ${table} ${TRACE_CHAINS[0]} meta nftrace set 1`,
    `add chain inet ${table} ${TRACE_CHAINS[1]} { type filter hook output priority -400; }`,
    `add rule inet ${table} ${TRACE_CHAINS[1]} meta nftrace set 1`,
    '',
  ].join('\n');
}

/** Removes them, also where a trace that was killed left them; one command each, as either may be missing. */
function removeTraceChains(runner: Runner, netns: string | null, table: string): Promise<unknown> {
  return Promise.all(TRACE_CHAINS.map((c) => runner.run(inNamespace(netns, ['nft', 'delete', 'chain', 'inet', table, c]))));
}

/** How long `nft monitor` is given to subscribe before the probe, and to print after it. */
const MONITOR_SETTLE_MS = 200;

/**
 * Runs `probe` with nft tracing in the given nodes (each with the lab's table); resolves with the
 * probe's result and, per node, what `nft monitor trace` printed. Tracing that cannot be set up
 * leaves that node out: the probe runs anyway.
 */
export async function withNftTrace<T>(lab: LabState, nodes: readonly string[], runner: Runner, probe: () => Promise<T>): Promise<{ result: T; output: Map<string, string> }> {
  const table = nftTableName(lab.lab);
  const monitors: Array<{ node: string; stop: () => Promise<string> }> = [];
  const traced: string[] = [];
  try {
    for (const node of nodes) {
      const netns = lab.nodes.get(node)?.netns ?? null;
      await removeTraceChains(runner, netns, table);
      const added = await runner.run(inNamespace(netns, ['nft', '-f', '-']), addTraceChainsScript(table));
      if (added.exitCode !== 0) continue;
      traced.push(node);
      const argv = enterPath(netns === null ? null : netnsPath(netns), ['setpriv', '--pdeathsig', 'KILL', 'nft', 'monitor', 'trace']);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => (text += chunk));
      const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
      monitors.push({
        node,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
          return text;
        },
      });
    }
    if (monitors.length > 0) await new Promise((r) => setTimeout(r, MONITOR_SETTLE_MS));
    const result = await probe();
    if (monitors.length > 0) await new Promise((r) => setTimeout(r, MONITOR_SETTLE_MS));
    const output = new Map<string, string>();
    for (const m of monitors) output.set(m.node, await m.stop());
    return { result, output };
  } finally {
    for (const m of monitors) await m.stop();
    for (const node of traced) await removeTraceChains(runner, lab.nodes.get(node)?.netns ?? null, table);
  }
}
