// What the engine is given (the runner, where state lives, whom to tell) and what a plan is for.
import type { ExecuteDeps, ExecuteLog } from '../kernel/execute.js';
import type { ProgressListener } from '../kernel/progress.js';
import type { ReadDeps } from '../kernel/read.js';
import type { Runner } from '../kernel/runner.js';
import type { LabState } from '../model/types.js';
import type { Plan } from '../plan/change.js';
import type { OtherLabsClaims } from '../plan/other-labs.js';
import type { Selection } from '../plan/target.js';
import { recordDir, type LabRecord } from '../state/record.js';

export interface EngineDeps {
  runner: Runner;
  /** How long apply and destroy wait for another run's lock before giving up. */
  lockWaitMs?: number;
  onLockWait?: (message: string) => void;
  /** Ctrl-C: finish the batches under way, start no new one. */
  signal?: AbortSignal;
  /** Processes at once; namespaces are independent, the machine's cores are not. */
  concurrency: number;
  stateDir: string;
  log?: ExecuteLog;
  /** Told of each batch and each change's outcome as apply or destroy runs. */
  onProgress?: ProgressListener;
  /** One line the user should read that does not stop the run (a record that is not trusted). */
  onWarning?: (message: string) => void;
  /** --node: plan, apply or destroy only these nodes and the links between them (plan/target.ts). */
  nodes?: readonly string[];
  /**
   * apply: told the plan once it is read, under the lock and before anything is written or run.
   * Throwing stops the run with nothing changed (a saved plan that is stale).
   */
  onPlan?: (plan: LabPlan) => void;
}

export interface LabPlan {
  /** What the plan is for: the file's state, narrowed to the selection with --node. */
  desired: LabState;
  actual: LabState;
  plan: Plan;
  record?: LabRecord;
  /** With --node: what was selected and what left out. */
  selection?: Selection;
  /** Per node, what other labs hold in its namespace. */
  otherLabs: Map<string, OtherLabsClaims>;
}

/** What a run of the lab's changes is given: the engine's runner, limits and listeners, and the lab's record directory. */
export function executeDeps(deps: EngineDeps, lab: string, readBack: Pick<ExecuteDeps, 'readBack' | 'sysctlReadBack'> = {}): ExecuteDeps {
  const { runner, concurrency, log, signal, onProgress } = deps;
  return { runner, concurrency, log, signal, onProgress, recordDir: recordDir(deps.stateDir, lab), ...readBack };
}

/** What a read of the lab's namespaces is given; `answers` are what a run's own batches already read back. */
export function readDeps(deps: EngineDeps, lab: string | undefined, answers: Omit<ReadDeps, 'runner' | 'concurrency' | 'recordDir'> = {}): ReadDeps {
  return { runner: deps.runner, concurrency: deps.concurrency, ...(lab !== undefined ? { recordDir: recordDir(deps.stateDir, lab) } : {}), ...answers };
}
