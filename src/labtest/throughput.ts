// A `throughput` test: an iperf3 client in the from node sends TCP to an iperf3 server netlab
// starts in the target node for the test, and the rate the server received is judged against
// min and max. Pure: the argv, and what iperf3's JSON says.
import type { RunResult } from '../kernel/runner.js';
import { formatRate } from '../model/impair.js';
import type { Outcome } from './outcome.js';
import type { Bounds, Listener } from './resolve.js';

export interface ThroughputCheck {
  kind: 'throughput';
  address: string;
  port: number;
  server: Listener;
  /** Bits per second. */
  rate: Bounds;
}

/** How long the client sends: long enough for TCP to fill a shaped link, short enough for a test run. */
export const THROUGHPUT_SECONDS = 2;

/** One test, then the server exits by itself (-1); the kernel kills it if netlab dies first. */
export function iperfServerArgv(port: number): string[] {
  return ['setpriv', '--pdeathsig', 'KILL', 'iperf3', '-s', '-1', '-p', String(port)];
}

export function iperfClientArgv(check: ThroughputCheck, connectSeconds: number): string[] {
  return ['setpriv', '--pdeathsig', 'KILL', 'iperf3', '-c', check.address, '-p', String(check.port), '-t', String(THROUGHPUT_SECONDS), '-J', '--connect-timeout', String(Math.round(connectSeconds * 1000))];
}

/** "9.57 mbit/s": a measured rate in tc's units, as the bounds are written. */
export function formatMeasured(bits: number): string {
  for (const [unit, scale] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bits >= scale) return `${Number((bits / scale).toPrecision(3))} ${unit}/s`;
  return `${Math.round(bits)} bit/s`;
}

interface IperfJson {
  error?: string;
  end?: { sum_received?: { bits_per_second?: number } };
}

/** The server is not listening yet: worth another try while it starts. */
export function notListeningYet(result: RunResult): boolean {
  return /connection refused/i.test(`${result.stdout}${result.stderr}`);
}

/** success: the server received within the bounds; fail: out of them, or no connection; error: iperf3 could not run. */
export function classifyThroughput(result: RunResult, check: ThroughputCheck): Outcome {
  let json: IperfJson | undefined;
  try {
    json = JSON.parse(result.stdout) as IperfJson;
  } catch {
    json = undefined;
  }
  if (!json) {
    const said = `${result.stderr}`.trim().split('\n').pop() || 'no message';
    if (result.exitCode === 127 || /No such file|not found/i.test(said)) return { got: 'error', why: 'iperf3 could not run: is it installed? (apt-get install -y iperf3)' };
    return { got: 'error', why: `iperf3 could not run (exit ${result.exitCode}): ${said}` };
  }
  const bits = json.end?.sum_received?.bits_per_second;
  if (json.error || bits === undefined) {
    const why = (json.error ?? 'no result').replace(/^unable to connect to server: /, '');
    return { got: 'fail', why: `no throughput: ${why}` };
  }
  const out: string[] = [];
  if (check.rate.min !== undefined && bits < check.rate.min) out.push(`below the min ${formatRate(check.rate.min)}`);
  if (check.rate.max !== undefined && bits > check.rate.max) out.push(`above the max ${formatRate(check.rate.max)}`);
  return { got: out.length > 0 ? 'fail' : 'success', why: [`${formatMeasured(bits)} received`, ...out].join(', ') };
}
