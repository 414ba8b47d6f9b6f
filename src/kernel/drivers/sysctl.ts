// `sysctl`: a namespace's sysctl changes written by one process. It goes on after a key it cannot
// write and names that key in its message, so only that key's change failed.
import { DriverError } from '../../errors.js';
import type { Change } from '../../plan/change.js';
import { jobArgv, type Job } from '../fanout.js';
import { netnsPath } from '../paths.js';
import type { RunResult } from '../runner.js';
import { jobDriver } from './jobs.js';
import { commandsFor } from './per-change.js';
import type { BatchOutcome, DriverBatch, Failure, PreparedJob } from './types.js';

/**
 * `sysctl -q -w K=V…`; with keys to read back, `sysctl -q K=V… KEY…` instead: without -w, an
 * argument with '=' is written and one without is read, in order, by the same process. Only keys
 * this batch writes are read so (no -e, which would hide a failed write too); otherwise verify
 * reads the node's sysctls on its own.
 */
function sysctlJob(netns: string | null, changes: readonly Change[], readKeys?: readonly string[]): Job {
  const writes = changes.flatMap((c) => commandsFor(c, 'sysctl')).map((a) => a.assignment);
  const written = new Set(writes.map((w) => w.slice(0, w.indexOf('='))));
  const readBack = readKeys !== undefined && readKeys.every((k) => written.has(k));
  const argv = readBack ? ['sysctl', '-q', ...writes, ...readKeys] : ['sysctl', '-q', '-w', ...writes];
  return { enter: netns === null ? null : netnsPath(netns), argv };
}

function prepareSysctl(batch: DriverBatch): PreparedJob {
  const job = sysctlJob(batch.scope.netns, batch.changes, batch.reads);
  return { scope: batch.scope, job, shown: [job.argv.join(' ')], outcome: (result) => sysctlOutcome(job, batch.changes, result) };
}

function sysctlOutcome(job: Job, changes: Change[], result: RunResult): BatchOutcome {
  const argv = jobArgv(job);
  if (result.exitCode === 0) return { done: changes, failed: [], ...(job.argv.includes('-w') ? {} : { readBack: result.stdout }) };
  const failed: Failure[] = [];
  const done: Change[] = [];
  for (const change of changes) {
    const key = change.kind === 'sysctl' ? change.key : '';
    const path = key.replace(/\./g, '/');
    if (result.stderr.includes(key) || result.stderr.includes(path)) {
      failed.push({ change, error: new DriverError(argv, result.exitCode, result.stderr) });
    } else {
      done.push(change);
    }
  }
  // A failure that names none of the keys (sysctl not found, the namespace gone): all of them failed.
  if (failed.length === 0) return { done: [], failed: changes.map((change) => ({ change, error: new DriverError(argv, result.exitCode, result.stderr) })) };
  return { done, failed };
}

export const sysctlDriver = jobDriver(prepareSysctl);
