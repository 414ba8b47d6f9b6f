// The drivers whose batch is one short process (ip, sysctl) hand it over as a job: the scheduler
// starts a round's jobs together, through one process (fanout.ts); a batch run alone is one job.
import { runJobs } from '../fanout.js';
import type { BatchOutcome, Driver, DriverBatch, DriverContext, PreparedJob } from './types.js';

/** Logs every job's commands first (apply -v), then runs them all and maps each result back to its changes. */
export async function runPrepared(prepared: readonly PreparedJob[], ctx: DriverContext): Promise<BatchOutcome[]> {
  for (const p of prepared) for (const line of p.shown) ctx.log?.command(p.scope, line);
  const results = await runJobs(prepared.map((p) => p.job), ctx.runner, ctx.concurrency);
  return prepared.map((p, i) => p.outcome(results[i]!));
}

export function jobDriver(prepare: (batch: DriverBatch) => PreparedJob): Driver {
  return {
    prepare,
    run: async (batch, ctx) => (await runPrepared([prepare(batch)], ctx))[0]!,
  };
}
