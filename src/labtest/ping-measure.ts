// A ping of several echoes, judged by its summary against the test's bounds on loss and round
// trip. Pure: fed by ping's exit code and output.
import type { RunResult } from '../kernel/runner.js';
import { formatMs, formatPercent } from '../model/quantities.js';
import { classifyPing, type Outcome } from './outcome.js';
import type { Bounds, PingCheck } from './resolve.js';

export interface PingSummary {
  transmitted: number;
  received: number;
  /** Average round trip of the answered echoes, in ms; undefined when none was timed. */
  rttAvgMs?: number;
  /** Median round trip of the answered echoes (duplicates left out), in ms; undefined when none was timed. */
  rttMedianMs?: number;
}

/** The middle of the values, or the mean of the middle two. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Each answer's "time=41.2 ms", a duplicate's "(DUP!)" left out. */
function echoTimes(output: string): number[] {
  const times: number[] = [];
  for (const line of output.split('\n')) {
    const time = / bytes from .* time=([\d.]+) ms/.exec(line);
    if (time && !line.includes('(DUP!)')) times.push(Number(time[1]));
  }
  return times;
}

/**
 * "50 packets transmitted, 48 received, ...", "rtt min/avg/max/mdev = a/b/c/d ms" and each
 * answer's time (the median is taken from them; without them, as with ping -q, it is the average).
 */
export function parsePingSummary(output: string): PingSummary | undefined {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(output);
  if (!counts) return undefined;
  const rtt = /rtt min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  const rttAvgMs = rtt ? Number(rtt[1]) : undefined;
  return { transmitted: Number(counts[1]), received: Number(counts[2]), rttAvgMs, rttMedianMs: median(echoTimes(output)) ?? rttAvgMs };
}

/** What is out of bounds, each said against its bound: "above the max 5%". */
function violations(value: number, bounds: Bounds, show: (n: number) => string): string[] {
  const out: string[] = [];
  if (bounds.min !== undefined && value < bounds.min) out.push(`below the min ${show(bounds.min)}`);
  if (bounds.max !== undefined && value > bounds.max) out.push(`above the max ${show(bounds.max)}`);
  return out;
}

/**
 * success: the measures are within the bounds (without bounds: an echo was answered, as ping's
 * exit code says); fail: a measure is out of bounds, or nothing answered; error as for one echo.
 */
export function classifyMeasuredPing(result: RunResult, check: PingCheck, timeoutSeconds: number): Outcome {
  const single = classifyPing(result, timeoutSeconds);
  const summary = parsePingSummary(result.stdout);
  if (single.got === 'error' || !summary || summary.transmitted === 0) return single;
  if (check.loss === undefined && check.rtt === undefined) {
    return single.got === 'success' ? { got: 'success', why: `${summary.received} of ${summary.transmitted} answered` } : single;
  }
  const lost = summary.transmitted - summary.received;
  const lossPercent = (lost / summary.transmitted) * 100;
  const measures: string[] = [];
  let failed = false;
  if (check.loss) {
    const out = violations(lossPercent, check.loss, formatPercent);
    failed ||= out.length > 0;
    measures.push([`loss ${formatPercent(lossPercent)} (${lost} of ${summary.transmitted})`, ...out].join(', '));
  }
  if (check.rtt) {
    // The median, not the average: one echo held up (a busy or emulated machine stalls for a
    // moment) moves the average of 20 by a twentieth of its delay, the median not at all.
    const { rttMedianMs, rttAvgMs } = summary;
    if (rttMedianMs === undefined) {
      failed = true;
      measures.push(`no round trip to measure (${single.why})`);
    } else {
      const out = violations(rttMedianMs, check.rtt, formatMs);
      failed ||= out.length > 0;
      const avg = rttAvgMs !== undefined && rttAvgMs !== rttMedianMs ? ` (avg ${formatMs(rttAvgMs)})` : '';
      measures.push([`rtt median ${formatMs(rttMedianMs)}${avg}`, ...out].join(', '));
    }
  }
  return { got: failed ? 'fail' : 'success', why: measures.join('; ') };
}
