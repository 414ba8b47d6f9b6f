// What a tool's driver and the scheduler (kernel/execute.ts) say to each other: a batch of changes
// in one scope goes in, which of them are done and which failed comes out. Types only.
import type { DriverError } from '../../errors.js';
import type { Change } from '../../plan/change.js';
import type { Scope } from '../../resources/resource.js';
import type { Job } from '../fanout.js';
import type { RunResult, Runner } from '../runner.js';

export type Tool = Scope['tool'];

export interface ExecuteLog {
  /** Each command as it runs (apply -v). */
  command(scope: Scope, text: string): void;
}

export interface Failure {
  change: Change;
  error: DriverError | Error;
}

export interface BatchOutcome {
  done: Change[];
  failed: Failure[];
  /** What the batch's reads printed, when it asked for some and ran whole. */
  readBack?: string;
}

/** What a driver takes from the run (ExecuteDeps has it all). */
export interface DriverContext {
  runner: Runner;
  concurrency: number;
  log?: ExecuteLog;
  /** The lab's record directory: run: commands and published namespaces keep their state there. */
  recordDir?: string;
}

export interface DriverBatch {
  scope: Scope;
  /** In dependency order. */
  changes: Change[];
  /**
   * What the same process reads after the changes, its answer the outcome's readBack: `ip` lines
   * (READ_LINES) for an ip batch, keys for a sysctl batch. Only the scheduler asks, and only of the
   * job drivers.
   */
  reads?: readonly string[];
}

/** A batch made ready as one short process, to be started with the round's others (fanout.ts). */
export interface PreparedJob {
  scope: Scope;
  job: Job;
  /** What apply -v shows of it, a line each. */
  shown: string[];
  /** Which changes the process's result says are done and which failed. */
  outcome(result: RunResult): BatchOutcome;
}

export interface Driver {
  /** Carries a batch out on its own. */
  run(batch: DriverBatch, ctx: DriverContext): Promise<BatchOutcome>;
  /** ip and sysctl only: the batch as a job, so that one process starts all of a round's jobs. */
  prepare?(batch: DriverBatch): PreparedJob;
}
