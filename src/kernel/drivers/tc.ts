// `tc -batch`: a namespace's qdisc changes in one process. Like `ip -batch` it stops at its first
// failing line and names it ("Command failed -:N"), so the same reading of its result applies.
import type { Job } from '../fanout.js';
import { netnsPath } from '../paths.js';
import { batchOutcome } from './ip.js';
import { jobDriver } from './jobs.js';
import { commandsFor } from './per-change.js';
import type { DriverBatch, PreparedJob } from './types.js';

function prepareTc({ scope, changes }: DriverBatch): PreparedJob {
  const lines = changes.flatMap((change) => commandsFor(change, 'tc').map((cmd) => ({ change, line: cmd.line })));
  const job: Job = { enter: scope.netns === null ? null : netnsPath(scope.netns), argv: ['tc', '-batch', '-'], input: `${lines.map((l) => l.line).join('\n')}\n` };
  return { scope, job, shown: lines.map((l) => l.line), outcome: (result) => batchOutcome(job, changes, lines, false, result) };
}

export const tcDriver = jobDriver(prepareTc);
