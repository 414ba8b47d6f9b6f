// Runs a schedule: round by round, each round's batches in parallel, one process per batch.
// A failed change stops only what depends on it; everything independent still runs. What a batch
// does with its tool is its driver's (drivers/); here is only the order, what is held back, and
// what the batches read back.
import pLimit from 'p-limit';
import type { Change } from '../plan/change.js';
import type { Batch, Schedule } from '../plan/graph.js';
import type { Scope } from '../resources/resource.js';
import { runPrepared } from './drivers/jobs.js';
import { driverFor } from './drivers/registry.js';
import type { BatchOutcome, ExecuteLog, Failure } from './drivers/types.js';
import type { ProgressListener } from './progress.js';
import { READ_LINES } from './read.js';
import type { Runner } from './runner.js';

export type { ExecuteLog, Failure } from './drivers/types.js';

export interface ExecuteDeps {
  /** Aborted by Ctrl-C or SIGTERM: the batches under way finish, no new one starts. */
  signal?: AbortSignal;
  /** The lab's record directory, where run: commands keep their state and output. */
  recordDir?: string;
  runner: Runner;
  concurrency: number;
  log?: ExecuteLog;
  /** Told of each batch and each change's outcome as the run goes. */
  onProgress?: ProgressListener;
  /**
   * Namespaces to read at the end of their batch in the given round (plan/graph.ts
   * settledByOwnLastBatch): the batch's own `ip` shows links, addresses and routes after its changes.
   */
  readBack?: ReadonlyMap<string, number>;
  /** The same for sysctls: the namespace's sysctl batch in that round also reads these keys back. */
  sysctlReadBack?: ReadonlyMap<string, { round: number; keys: readonly string[] }>;
}

export interface ExecuteResult {
  done: Change[];
  failed: Failure[];
  /** Not run because something they depend on failed or was itself skipped. */
  skipped: Change[];
  /** Not run because the run was interrupted. */
  notStarted: Change[];
  /** Per namespace asked for in readBack whose batch ran whole: `ip -d -j` answers to READ_LINES. */
  readBack: Map<string, string>;
  /** Per namespace asked for in sysctlReadBack whose batch ran whole: what `sysctl` printed for the keys. */
  sysctlReadBack: Map<string, string>;
}

/**
 * What a batch reads at its end, when it is the namespace's batch asked for in readBack or
 * sysctlReadBack and runs in that round; one run again to finish after a failure (no round) reads nothing.
 */
function readsOf(scope: Scope, deps: ExecuteDeps, round?: number): readonly string[] | undefined {
  if (round === undefined || scope.netns === null) return undefined;
  if (scope.tool === 'ip') return deps.readBack?.get(scope.netns) === round ? READ_LINES : undefined;
  if (scope.tool !== 'sysctl') return undefined;
  const wanted = deps.sysctlReadBack?.get(scope.netns);
  return wanted?.round === round ? wanted.keys : undefined;
}

export async function execute(plan: Schedule, deps: ExecuteDeps): Promise<ExecuteResult> {
  const result: ExecuteResult = { done: [], failed: [], skipped: [], notStarted: [], readBack: new Map(), sysctlReadBack: new Map() };
  const blocked = new Set<string>();
  const isBlocked = (c: Change) => (plan.deps.get(c.id) ?? []).some((d) => blocked.has(d));
  const limit = pLimit(deps.concurrency);
  deps.onProgress?.({ type: 'begin', total: plan.rounds.flat().reduce((n, b) => n + b.changes.length, 0) });

  const runUntilSettled = async (batch: Batch, first?: Promise<BatchOutcome>): Promise<void> => {
    let pending = batch.changes;
    while (pending.length > 0) {
      if (deps.signal?.aborted) {
        result.notStarted.push(...pending);
        return;
      }
      const runnable: Change[] = [];
      for (const c of pending) {
        if (isBlocked(c)) {
          blocked.add(c.id);
          result.skipped.push(c);
          deps.onProgress?.({ type: 'skipped', change: c });
        } else {
          runnable.push(c);
        }
      }
      if (runnable.length === 0) return;
      deps.onProgress?.({ type: 'batch', scope: batch.scope, changes: runnable });
      // The round's ip and sysctl batches were started together; a batch cut short by a failure runs its rest alone.
      const outcome = first && runnable.length === batch.changes.length ? await first : await driverFor(batch.scope.tool).run({ scope: batch.scope, changes: runnable }, deps);
      first = undefined;
      if (outcome.readBack !== undefined && batch.scope.netns !== null) {
        (batch.scope.tool === 'sysctl' ? result.sysctlReadBack : result.readBack).set(batch.scope.netns, outcome.readBack);
      }
      for (const change of outcome.done) deps.onProgress?.({ type: 'done', change });
      for (const { change, error } of outcome.failed) deps.onProgress?.({ type: 'failed', change, error });
      result.done.push(...outcome.done);
      result.failed.push(...outcome.failed);
      for (const f of outcome.failed) blocked.add(f.change.id);
      const settled = new Set([...outcome.done, ...outcome.failed.map((f) => f.change)]);
      // What the failure cut off in this batch runs again unless it depends on the failure.
      pending = runnable.filter((c) => !settled.has(c));
    }
  };

  for (const [r, round] of plan.rounds.entries()) {
    // The round's job batches (ip, sysctl) that can run whole, started together by one process.
    const together = round.flatMap((batch) => {
      const driver = driverFor(batch.scope.tool);
      if (!driver.prepare || deps.signal?.aborted || batch.changes.some(isBlocked)) return [];
      return [{ batch, job: driver.prepare({ scope: batch.scope, changes: batch.changes, reads: readsOf(batch.scope, deps, r) }) }];
    });
    const started = together.length > 1 || deps.readBack || deps.sysctlReadBack ? runPrepared(together.map((t) => t.job), deps) : undefined;
    const firsts = new Map(together.map((t, i) => [t.batch, started?.then((outcomes) => outcomes[i]!)] as const));
    await Promise.all(round.map((batch) => limit(() => runUntilSettled(batch, firsts.get(batch)))));
  }
  return result;
}
