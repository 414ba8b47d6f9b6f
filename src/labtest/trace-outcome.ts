// A trace: one ping per TTL (1, 2, ...), each answered by the router whose hop limit it reached
// ("Time to live exceeded") or by the target itself. Each answering address is named by the node
// of the lab that holds it. Pure: fed by ping's exit codes and output.
import type { RunResult } from '../kernel/runner.js';
import { canonicalIp } from '../model/ip.js';
import type { Outcome } from './outcome.js';
import type { TraceCheck } from './resolve.js';

/** What one TTL-limited echo met. */
export type Hop =
  /** The target answered: the trace ends here. */
  | { kind: 'reached'; address: string }
  /** A router said the hop limit ran out: the packet crossed it. */
  | { kind: 'hop'; address: string }
  /** A router said it cannot forward (no route, host unreachable): the trace ends there. */
  | { kind: 'unreachable'; address: string; why: string }
  /** No answer: a router that sends no ICMP, or a lost echo. */
  | { kind: 'silent' }
  /** The node itself has no route: nothing was sent. */
  | { kind: 'no-route'; why: string }
  /** ping could not run. */
  | { kind: 'error'; why: string };

/** As the lab's owners map writes it; ping's text taken as it comes when it is no address. */
function canonical(address: string): string {
  try {
    return canonicalIp(address);
  } catch {
    return address;
  }
}

/** One ping answer: an echo reply, a "Time to live exceeded" (IPv4) or "Time exceeded: Hop limit" (IPv6), or an unreachable. */
export function parseHop(result: RunResult): Hop {
  const output = `${result.stdout}\n${result.stderr}`;
  const reply = /^\d+ bytes from (\S+?):? icmp_seq=/m.exec(output);
  if (result.exitCode === 0 && reply) return { kind: 'reached', address: canonical(reply[1]!) };
  const exceeded = /^From (\S+?):? icmp_seq=\d+ Time (?:to live exceeded|exceeded: Hop limit)/m.exec(output);
  if (exceeded) return { kind: 'hop', address: canonical(exceeded[1]!) };
  const unreachable = /^From (\S+?):? icmp_seq=\d+ (Destination [\w ]+Unreachable|Packet too big.*|Frag needed.*)$/m.exec(output);
  if (unreachable) return { kind: 'unreachable', address: canonical(unreachable[1]!), why: unreachable[2]!.trim().toLowerCase() };
  if (result.exitCode === 1) return { kind: 'silent' };
  const local = /(Network is unreachable|No route to host)/i.exec(output);
  if (result.exitCode === 2 && local) return { kind: 'no-route', why: local[1]!.toLowerCase() };
  const said = output.split('\n').map((l) => l.trim()).filter((l) => l !== '').pop();
  return { kind: 'error', why: `ping could not run (exit ${result.exitCode}): ${said ?? 'no message'}` };
}

/** Whether the trace goes on after this hop. */
export function traceContinues(hop: Hop): boolean {
  return hop.kind === 'hop' || hop.kind === 'silent';
}

/** A hop as a person reads it: the node that holds the address, else the address; "*" for silence. */
export function hopName(hop: Hop, owners: Readonly<Record<string, string>>): string {
  if (hop.kind === 'silent') return '*';
  if (hop.kind === 'no-route' || hop.kind === 'error') return '?';
  return owners[hop.address] ?? hop.address;
}

export function pathText(names: readonly string[]): string {
  return names.join(' → ');
}

/** "hop 2 is r3, not r2": where a long path first goes another way. */
function firstDifference(seen: readonly string[], wanted: readonly string[]): string {
  const i = seen.findIndex((name, n) => name !== wanted[n]);
  const at = i < 0 ? seen.length : i;
  const name = (n: string | undefined) => (n === undefined ? 'nothing' : n === '*' ? '* (no answer)' : n);
  return `hop ${at + 1} is ${name(seen[at])}, not ${name(wanted[at])}`;
}

/**
 * success: the hops, named, are the test's path, the last the target answering; fail: another
 * path, or one that did not reach the target; error: ping could not run.
 */
export function classifyTrace(hops: readonly Hop[], check: TraceCheck): Outcome {
  const wanted = pathText(check.path);
  const last = hops[hops.length - 1];
  if (last?.kind === 'error') return { got: 'error', why: last.why };
  if (last?.kind === 'no-route') {
    const before = hops.slice(0, -1).map((h) => hopName(h, check.owners));
    return { got: 'fail', why: `${before.length ? `path ${pathText(before)}, then ` : ''}no route (${last.why}), not ${wanted}` };
  }
  const names = hops.map((h) => hopName(h, check.owners));
  const seen = pathText(names);
  if (last?.kind === 'reached') {
    const same = names.length === check.path.length && names.every((n, i) => n === check.path[i]);
    return same ? { got: 'success', why: `path ${seen}` } : { got: 'fail', why: `path ${seen}, not ${wanted}: ${firstDifference(names, check.path)}` };
  }
  const end = last?.kind === 'unreachable' ? `${hopName(last, check.owners)} says ${last.why}` : `no answer from ${check.address} within ${hops.length} hops`;
  return { got: 'fail', why: `path ${seen} (${end}), not ${wanted}` };
}
