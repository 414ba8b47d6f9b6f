// What a probe's output means, and whether that is what the test expected. Pure: fed by the exit
// code and output of ping and socat, so every case is unit-tested without a kernel.
import type { RunResult } from '../kernel/runner.js';
import type { Check, Expectation } from './resolve.js';

/**
 * success: the traffic got through (ping answered; connected, and read the listener's reply).
 * fail: it did not (no answer, refused, unreachable, timed out).
 * error: neither can be said: the probe could not run, or something other than the listener
 * answered. An error fails the test whatever it expects.
 */
export type Got = 'success' | 'fail' | 'error';

export interface Outcome {
  got: Got;
  /** Why, in a few words: "100% packet loss", "connection refused", "reply mismatch: ...". */
  why: string;
}

export function passes(expect: Expectation, outcome: Outcome): boolean {
  return outcome.got === expect;
}

/** The reason a failing test gives: what happened, said against what was expected. */
export function failureReason(expect: Expectation, outcome: Outcome, kind: Check['kind'] = 'ping'): string {
  if (outcome.got === 'success' && expect === 'fail') {
    const otherwise = kind === 'route' ? 'the kernel to choose otherwise' : kind === 'trace' ? 'another path' : 'the traffic not to get through';
    return `${outcome.why}, but the test expects ${otherwise}`;
  }
  return outcome.why;
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .pop() ?? ''
  );
}

/**
 * An echo too big for the path with don't-fragment set: a router said so (ICMP "fragmentation
 * needed" / "packet too big"), or the kernel refused to send it, knowing the path's MTU.
 */
function tooBig(output: string): string | undefined {
  const router = /From (\S+) .*(?:Frag needed and DF set \(mtu = |Packet too big: mtu=)(\d+)/.exec(output);
  if (router) return `too big: ${router[1]} says the path's mtu is ${router[2]}`;
  const local = /local error: message too long, mtu[=:] ?(\d+)/i.exec(output);
  if (local) return `too big: the path's mtu is ${local[1]}`;
  return undefined;
}

/** `ping -c 1 -w N`: exit 0 answered; 1 no answer within N s; 2 an error (no route is one). */
export function classifyPing(result: RunResult, timeoutSeconds: number): Outcome {
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.exitCode === 0) {
    const rtt = /time=([\d.]+ ?ms)/.exec(output);
    return { got: 'success', why: rtt ? `answered in ${rtt[1]}` : 'answered' };
  }
  const unreachable = /(Network is unreachable|No route to host|Destination (?:Host|Net|Port) Unreachable|Address unreachable|No route)/i.exec(output);
  if (result.exitCode === 1) {
    const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(output);
    const base = loss ? `${loss[1]}% packet loss` : `no answer within ${timeoutSeconds} s`;
    const cause = tooBig(output) ?? unreachable?.[1]!.toLowerCase();
    return { got: 'fail', why: cause ? `${base} (${cause})` : base };
  }
  if (result.exitCode === 2 && unreachable) return { got: 'fail', why: unreachable[1]!.toLowerCase() };
  return { got: 'error', why: `ping could not run (exit ${result.exitCode}): ${lastLine(result.stderr) || lastLine(result.stdout) || 'no message'}` };
}

/** The system error at the end of a socat error line: "E connect(5, AF=2 ...): Connection refused". */
function socatError(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => / E /.test(l));
  const last = lines.pop();
  if (!last) return undefined;
  const colon = last.lastIndexOf(': ');
  return colon >= 0 ? last.slice(colon + 2).trim() : last.trim();
}

const BLOCKED: Array<[RegExp, (seconds: number) => string]> = [
  [/connection refused/i, () => 'connection refused'],
  [/timed out/i, (s) => `timed out after ${s} s`],
  [/network is unreachable/i, () => 'network is unreachable'],
  [/no route to host|host is unreachable/i, () => 'no route to host'],
  [/connection reset/i, () => 'connection reset'],
];

function quote(text: string, max = 40): string {
  const t = text.trim();
  return JSON.stringify(t.length > max ? `${t.slice(0, max)}…` : t);
}

export interface ConnectProbe {
  proto: 'tcp' | 'udp';
  /** What the listener must echo back; undefined when netlab runs no listener. */
  reply?: string;
  timeoutSeconds: number;
}

/**
 * A socat client's result. With a listener, success is reading exactly its reply; without one, a
 * TCP connect that is accepted, or any UDP answer.
 */
export function classifyConnect(result: RunResult, probe: ConnectProbe): Outcome {
  const { proto, reply, timeoutSeconds } = probe;
  if (result.exitCode !== 0) {
    const error = socatError(result.stderr);
    if (error !== undefined) {
      for (const [pattern, why] of BLOCKED) if (pattern.test(error)) return { got: 'fail', why: why(timeoutSeconds) };
    }
    return { got: 'error', why: `socat could not run (exit ${result.exitCode}): ${error ?? (lastLine(result.stderr) || 'no message')}` };
  }
  const got = result.stdout;
  if (reply === undefined) {
    if (proto === 'tcp') return { got: 'success', why: 'connected' };
    return got.length > 0 ? { got: 'success', why: 'answered' } : { got: 'fail', why: `no answer within ${timeoutSeconds} s` };
  }
  if (got === reply) return { got: 'success', why: proto === 'tcp' ? 'connected, read the reply' : 'read the reply' };
  if (got === '') {
    // UDP has no connection: silence is all a blocked path shows. TCP connected, then nothing came.
    return proto === 'udp'
      ? { got: 'fail', why: `timed out after ${timeoutSeconds} s` }
      : { got: 'error', why: `reply mismatch: connected, but no reply within ${timeoutSeconds} s (something other than netlab's listener answered?)` };
  }
  return { got: 'error', why: `reply mismatch: read ${quote(got)}, not netlab's listener's reply (something else answers on that address and port?)` };
}
