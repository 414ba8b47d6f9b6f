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
}

/** "50 packets transmitted, 48 received, ..." and "rtt min/avg/max/mdev = a/b/c/d ms". */
export function parsePingSummary(output: string): PingSummary | undefined {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(output);
  if (!counts) return undefined;
  const rtt = /rtt min\/avg\/max\/mdev = [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  return { transmitted: Number(counts[1]), received: Number(counts[2]), rttAvgMs: rtt ? Number(rtt[1]) : undefined };
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
    if (summary.rttAvgMs === undefined) {
      failed = true;
      measures.push(`no round trip to measure (${single.why})`);
    } else {
      const out = violations(summary.rttAvgMs, check.rtt, formatMs);
      failed ||= out.length > 0;
      measures.push([`rtt avg ${formatMs(summary.rttAvgMs)}`, ...out].join(', '));
    }
  }
  return { got: failed ? 'fail' : 'success', why: measures.join('; ') };
}
