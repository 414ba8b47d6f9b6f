// `bridge -batch`: a namespace's forwarding entries and VLAN memberships in one process. Like
// `ip -batch` it stops at its first failing line and names it ("Command failed -:N"), so the same
// reading of its result applies.
import type { Job } from '../fanout.js';
import { netnsPath } from '../paths.js';
import { batchOutcome, type BatchLine } from './ip.js';
import { jobDriver } from './jobs.js';
import { commandsFor } from './per-change.js';
import type { DriverBatch, PreparedJob } from './types.js';

function prepareBridge({ scope, changes }: DriverBatch): PreparedJob {
  const lines: BatchLine[] = changes.flatMap((change) => commandsFor(change, 'bridge').map((cmd) => ({ change, line: cmd.line })));
  const job: Job = { enter: scope.netns === null ? null : netnsPath(scope.netns), argv: ['bridge', '-batch', '-'], input: `${lines.map((l) => l.line).join('\n')}\n` };
  return { scope, job, shown: lines.map((l) => l.line), outcome: (result) => batchOutcome(job, changes, lines, false, result) };
}

export const bridgeDriver = jobDriver(prepareBridge);
