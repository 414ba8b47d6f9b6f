// The self-check of a trace: the real probe `netlab test` would send (one ping, or a TCP/UDP
// connect that must read back what it sent), and whether its result agrees with the explanation.
import type { Runner } from '../kernel/runner.js';
import type { LabState } from '../model/types.js';
import type { ConnectCheck, LabTest, PingCheck } from '../labtest/resolve.js';
import { processStarter, runTests } from '../labtest/run.js';
import { capturePoints, probeFilter, withCaptures } from '../capture/on-trace.js';
import { parseMonitorTrace, verdictsFor, withNftTrace } from './nftrace.js';
import type { NftTraced, ProbeCheck } from './render.js';
import type { Trace } from './walk.js';

export interface CheckDeps {
  runner: Runner;
  timeoutSeconds: number;
  signal?: AbortSignal;
  log?: (netns: string | null, argv: readonly string[]) => void;
  /** tcpdump on every interface the request crosses, for the time of the probe. */
  capture?: boolean;
}

/**
 * The probe as a lab test. Where the request arrives and nothing listens on its port, a listener
 * is served there for the probe (as a test's `serve:` does): the check is of the path, and a
 * refused connection would say nothing about it.
 */
export function probeTest(lab: LabState, trace: Trace): { test: LabTest; served?: string } {
  const r = trace.request;
  const fromNetns = lab.nodes.get(r.from)?.netns ?? null;
  const base = { number: 1, line: 0, col: 0, from: r.from, fromNetns, expect: 'success' as const };
  if (r.proto === 'icmp' || r.port === undefined) {
    const check: PingCheck = { kind: 'ping', address: r.dst, family: r.family };
    return { test: { ...base, label: `ping ${r.dst} from ${r.from}`, check } };
  }
  const arrival = trace.hops.filter((h) => h.direction === 'request').at(-1);
  const delivered = trace.end.direction === 'reply' || trace.end.kind === 'delivered';
  const serveAt = delivered && arrival && arrival.end?.listening === false ? arrival : undefined;
  const check: ConnectCheck = {
    kind: 'connect',
    proto: r.proto,
    address: r.dst,
    family: r.family,
    port: r.port,
    ...(serveAt ? { serve: { node: serveAt.node, netns: lab.nodes.get(serveAt.node)?.netns ?? null, port: serveAt.dport ?? r.port } } : {}),
  };
  const label = `${r.proto} connect to ${r.family === 6 ? `[${r.dst}]` : r.dst}:${r.port} from ${r.from}`;
  return { test: { ...base, label, check }, ...(serveAt ? { served: `${serveAt.node}:${serveAt.dport ?? r.port}/${r.proto}` } : {}) };
}

/** The request's hops at nodes whose lab chains were judged: where nft tracing can say what matched. */
function tracedNodes(trace: Trace): string[] {
  return [...new Set(trace.hops.filter((h) => h.direction === 'request' && h.chains.length > 0).map((h) => h.node))];
}

/** nft's own verdicts, per request hop and chain, against the explained ones. */
export function compareNftTrace(trace: Trace, output: ReadonlyMap<string, string>): NftTraced[] {
  const found: NftTraced[] = [];
  for (const hop of trace.hops.filter((h) => h.direction === 'request' && output.has(h.node))) {
    const lines = parseMonitorTrace(output.get(hop.node)!);
    for (const v of verdictsFor(lines, hop.src, hop.dst)) {
      const explained = hop.chains.find((c) => c.chain === v.chain);
      if (!explained) continue;
      const said = explained.decision === 'reject' ? 'drop' : explained.decision;
      found.push({ node: hop.node, chain: v.chain, ...(v.rule ? { rule: v.rule } : {}), verdict: v.verdict, explained: explained.decision, agrees: said === 'unknown' || said === v.verdict });
    }
  }
  return found;
}

export async function checkTrace(lab: LabState, trace: Trace, deps: CheckDeps): Promise<ProbeCheck> {
  const { test, served } = probeTest(lab, trace);
  const send = () => runTests([test], { runner: deps.runner, starter: processStarter(), concurrency: 1, timeoutSeconds: deps.timeoutSeconds, signal: deps.signal, log: deps.log });
  let packets: string[] | undefined;
  const sendCaptured = async () => {
    if (!deps.capture) return send();
    const captured = await withCaptures(lab, capturePoints(trace), probeFilter(trace), send);
    packets = captured.lines;
    return captured.result;
  };
  const { result: { results }, output } = await withNftTrace(lab, tracedNodes(trace), deps.runner, sendCaptured);
  const nft = compareNftTrace(trace, output);
  const outcome = results[0]?.outcome ?? { got: 'error' as const, why: 'interrupted' };
  const reached = outcome.got === 'success';
  // A probe that could not even be sent (ping: connect: Invalid argument) agrees with a trace that
  // ends where it starts; any other error says nothing either way.
  const refusedAtStart = outcome.got === 'error' && trace.end.direction === 'request' && trace.end.node === trace.request.from && trace.end.kind === 'dropped';
  const agrees = (outcome.got !== 'error' || refusedAtStart) && reached === trace.reaches && nft.every((n) => n.agrees);
  return { probe: test.label, reached, why: outcome.why, agrees, ...(served ? { served } : {}), ...(nft.length ? { nft } : {}), ...(packets ? { packets } : {}) };
}
