// `ip -batch`: a namespace's ip changes (or the root namespace's) in one process, which stops at
// its first failing line and names it ("Command failed -:N"): what came before is done, that
// line's change failed, and what came after it did not run (the scheduler runs it again unless it
// depends on the failure).
import { DriverError } from '../../errors.js';
import type { Change } from '../../plan/change.js';
import { jobArgv, type Job } from '../fanout.js';
import { netnsPath } from '../paths.js';
import type { RunResult } from '../runner.js';
import { jobDriver } from './jobs.js';
import { commandsFor } from './per-change.js';
import type { BatchOutcome, DriverBatch, PreparedJob } from './types.js';

export interface BatchLine {
  change: Change;
  line: string;
}

function failedLine(stderr: string): number | undefined {
  const match = /Command failed -:(\d+)/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

function stderrWithoutTrailer(stderr: string): string {
  return stderr.replace(/Command failed -:\d+\s*$/, '').trim();
}

/** With reads, the batch ends with them; `-d -j` only changes what they print. */
function prepareIp(batch: DriverBatch): PreparedJob {
  const { scope, changes, reads } = batch;
  const lines: BatchLine[] = changes.flatMap((change) => commandsFor(change, 'ip').map((cmd) => ({ change, line: cmd.line })));
  const input = `${[...lines.map((l) => l.line), ...(reads ?? [])].join('\n')}\n`;
  const argv = reads ? ['ip', '-d', '-j', '-batch', '-'] : ['ip', '-batch', '-'];
  const job: Job = { enter: scope.netns === null ? null : netnsPath(scope.netns), argv, input };
  return { scope, job, shown: lines.map((l) => l.line), outcome: (result) => batchOutcome(job, changes, lines, reads !== undefined, result) };
}

/** What a `-batch` process's result says of its changes, by the line it names as failed (tc's too). */
export function batchOutcome(job: Job, changes: Change[], lines: readonly BatchLine[], reads: boolean, result: RunResult): BatchOutcome {
  const argv = jobArgv(job);
  if (result.exitCode === 0) return { done: changes, failed: [], ...(reads ? { readBack: result.stdout } : {}) };

  const lineNo = failedLine(result.stderr);
  // Every change went through; only a read at the end failed: the run's own verify reads again.
  if (lineNo !== undefined && lineNo > lines.length) return { done: changes, failed: [] };
  const culprit = lineNo !== undefined ? lines[lineNo - 1] : undefined;
  if (!culprit) {
    // The whole batch failed without saying where: every change in it counts as failed.
    const error = new DriverError(argv, result.exitCode, result.stderr, job.input);
    return { done: [], failed: changes.map((change) => ({ change, error })) };
  }
  const error = new DriverError([...argv.slice(0, -2), culprit.line], result.exitCode, stderrWithoutTrailer(result.stderr));
  const done = changes.slice(0, changes.indexOf(culprit.change));
  return { done, failed: [{ change: culprit.change, error }] };
}

export const ipDriver = jobDriver(prepareIp);
