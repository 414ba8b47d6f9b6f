// Runs a schedule: round by round, each round's batches in parallel, one process per batch.
// A failed change stops only what depends on it; everything independent still runs.
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import pLimit from 'p-limit';
import { DriverError } from '../errors.js';
import { crashPoint } from './crash-point.js';
import type { Change } from '../plan/change.js';
import type { Batch, Schedule } from '../plan/graph.js';
import { commandsOf } from '../resources/registry.js';
import type { Command, Scope } from '../resources/resource.js';
import type { ProgressListener } from './progress.js';
import { netnsPath } from './paths.js';
import { publish, unpublish } from './publish.js';
import { namespaceInode, processesByNamespace, readRuns, removeRunFile, runFile, startRun, stopAll } from './processes.js';
import { jobArgv, runJobs, type Job } from './fanout.js';
import { READ_LINES } from './read.js';
import { inNamespace, type RunResult, type Runner } from './runner.js';

export interface ExecuteLog {
  /** Each command as it runs (apply -v). */
  command(scope: Scope, text: string): void;
}

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

export interface Failure {
  change: Change;
  error: DriverError | Error;
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

interface BatchOutcome {
  done: Change[];
  failed: Failure[];
  readBack?: string;
}

/** `ip -batch` stops at the first failing line and says "Command failed -:N". */
function failedLine(stderr: string): number | undefined {
  const match = /Command failed -:(\d+)/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}

function stderrWithoutTrailer(stderr: string): string {
  return stderr.replace(/Command failed -:\d+\s*$/, '').trim();
}

interface IpBatch {
  netns: string | null;
  changes: Change[];
  lines: Array<{ change: Change; line: string }>;
  job: Job;
  readBack: boolean;
}

/** With readBack, the batch ends with the reads (READ_LINES); `-d -j` only changes what they print. */
function ipBatch(netns: string | null, changes: Change[], readBack = false): IpBatch {
  const lines: Array<{ change: Change; line: string }> = [];
  for (const change of changes) {
    for (const cmd of commandsOf(change)) if (cmd.tool === 'ip') lines.push({ change, line: cmd.line });
  }
  const input = `${[...lines.map((l) => l.line), ...(readBack ? READ_LINES : [])].join('\n')}\n`;
  const argv = readBack ? ['ip', '-d', '-j', '-batch', '-'] : ['ip', '-batch', '-'];
  return { netns, changes, lines, job: { enter: netns === null ? null : netnsPath(netns), argv, input }, readBack };
}

/** The ip and sysctl batches of a round, run together: one process starts them all (see fanout.ts). */
async function runJobBatches(batches: ReadonlyArray<Pick<Batch, 'scope' | 'changes'>>, deps: ExecuteDeps, round?: number): Promise<BatchOutcome[]> {
  const prepared = batches.map((b) => {
    if (b.scope.tool === 'ip') {
      const netns = b.scope.netns;
      const ip = ipBatch(netns, b.changes, round !== undefined && netns !== null && deps.readBack?.get(netns) === round);
      for (const l of ip.lines) deps.log?.command(b.scope, l.line);
      return { job: ip.job, outcome: (r: RunResult) => ipOutcome(ip, r) };
    }
    const wanted = b.scope.netns === null ? undefined : deps.sysctlReadBack?.get(b.scope.netns);
    const job = sysctlJob(b.scope.netns, b.changes, wanted && wanted.round === round ? wanted.keys : undefined);
    deps.log?.command(b.scope, job.argv.join(' '));
    return { job, outcome: (r: RunResult) => sysctlOutcome(job, b.changes, r) };
  });
  const results = await runJobs(prepared.map((p) => p.job), deps.runner, deps.concurrency);
  return prepared.map((p, i) => p.outcome(results[i]!));
}

async function runIpBatch(netns: string | null, changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  return (await runJobBatches([{ scope: { tool: 'ip', netns }, changes }], deps))[0]!;
}

/** `ip -batch` stops at its first failing line: what came before is done, that line failed. */
function ipOutcome(batch: IpBatch, result: RunResult): BatchOutcome {
  const { changes, lines } = batch;
  const argv = jobArgv(batch.job);
  const input = batch.job.input;
  if (result.exitCode === 0) return { done: changes, failed: [], ...(batch.readBack ? { readBack: result.stdout } : {}) };

  const lineNo = failedLine(result.stderr);
  // Every change went through; only a read at the end failed: the run's own verify reads again.
  if (lineNo !== undefined && lineNo > lines.length) return { done: changes, failed: [] };
  const culprit = lineNo !== undefined ? lines[lineNo - 1] : undefined;
  if (!culprit) {
    // The whole batch failed without saying where: every change in it counts as failed.
    const error = new DriverError(argv, result.exitCode, result.stderr, input);
    return { done: [], failed: changes.map((change) => ({ change, error })) };
  }
  const error = new DriverError([...argv.slice(0, -2), culprit.line], result.exitCode, stderrWithoutTrailer(result.stderr));
  const done = changes.slice(0, changes.indexOf(culprit.change));
  return { done, failed: [{ change: culprit.change, error }] };
}

/**
 * `sysctl -q -w K=V…`; with keys to read back, `sysctl -q K=V… KEY…` instead: without -w, an
 * argument with '=' is written and one without is read, in order, by the same process. Only keys
 * this batch writes are read so (no -e, which would hide a failed write too); otherwise verify
 * reads the node's sysctls on its own.
 */
function sysctlJob(netns: string | null, changes: Change[], readKeys?: readonly string[]): Job {
  const assignments = changes.flatMap((c) => commandsOf(c)).filter((c): c is Extract<Command, { tool: 'sysctl' }> => c.tool === 'sysctl');
  const writes = assignments.map((a) => a.assignment);
  const written = new Set(writes.map((w) => w.slice(0, w.indexOf('='))));
  const readBack = readKeys !== undefined && readKeys.every((k) => written.has(k));
  const argv = readBack ? ['sysctl', '-q', ...writes, ...readKeys] : ['sysctl', '-q', '-w', ...writes];
  return { enter: netns === null ? null : netnsPath(netns), argv };
}

async function runSysctlBatch(netns: string | null, changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  return (await runJobBatches([{ scope: { tool: 'sysctl', netns }, changes }], deps))[0]!;
}

/** sysctl goes on after a failing key and names it in its message: only that key's change failed. */
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
  if (failed.length === 0) return { done: [], failed: changes.map((change) => ({ change, error: new DriverError(argv, result.exitCode, result.stderr) })) };
  return { done, failed };
}

async function runFileCommand(cmd: Extract<Command, { tool: 'file' }>): Promise<void> {
  if (cmd.op === 'write') {
    await mkdir(dirname(cmd.path), { recursive: true });
    await writeFile(cmd.path, cmd.content);
    return;
  }
  await rm(cmd.path, { force: true });
  crashPoint('resolv-conf-removed');
  // The directory is the namespace's own (/etc/netns/<ns>); gone when nothing else is in it.
  await rmdir(dirname(cmd.path)).catch(() => undefined);
}

async function runFileBatch(changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { done: [], failed: [] };
  for (const change of changes) {
    try {
      for (const cmd of commandsOf(change)) {
        if (cmd.tool !== 'file') continue;
        deps.log?.command({ tool: 'file', netns: null }, cmd.op === 'write' ? `write ${cmd.path}` : `remove ${cmd.path}`);
        await runFileCommand(cmd);
      }
      outcome.done.push(change);
    } catch (error) {
      outcome.failed.push({ change, error: error as Error });
    }
  }
  return outcome;
}

/** One nft transaction per namespace: the scripts of all its changes, applied all or nothing. */
async function runNftBatch(netns: string | null, changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  const script = changes
    .flatMap((c) => commandsOf(c))
    .map((c) => (c.tool === 'nft' ? c.script : ''))
    .join('');
  const argv = inNamespace(netns, ['nft', '-f', '-']);
  deps.log?.command({ tool: 'nft', netns }, `nft -f - <<'EOF'\n${script}EOF`);
  const result = await deps.runner.run(argv, script);
  if (result.exitCode === 0) return { done: changes, failed: [] };
  const error = new DriverError(argv, result.exitCode, result.stderr, script);
  return { done: [], failed: changes.map((change) => ({ change, error })) };
}

/** kind attach: the namespace published at /run/netns/<name>, or the lab's own mount taken away (publish.ts). */
async function runMountBatch(changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { done: [], failed: [] };
  for (const change of changes) {
    try {
      for (const cmd of commandsOf(change)) {
        if (cmd.tool !== 'mount') continue;
        if (!deps.recordDir) throw new Error("publishing a namespace needs the lab's record directory");
        const target = netnsPath(cmd.netns);
        deps.log?.command({ tool: 'mount', netns: null }, cmd.op === 'publish' ? `mount --bind ${cmd.source} ${target}` : `umount ${target}`);
        if (cmd.op === 'publish') await publish(change.node, cmd.netns, cmd.source, deps.recordDir, deps.runner);
        else await unpublish(change.node, cmd.netns, deps.recordDir, deps.runner);
      }
      outcome.done.push(change);
    } catch (error) {
      outcome.failed.push({ change, error: error as Error });
    }
  }
  return outcome;
}

/** run: commands started and stopped, and every process in a namespace about to go, ended. */
async function runProcBatch(changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { done: [], failed: [] };
  const byNamespace = changes.some((c) => c.kind === 'processes') ? await processesByNamespace() : new Map<string, number[]>();
  for (const change of changes) {
    try {
      for (const cmd of commandsOf(change)) {
        if (cmd.tool !== 'proc') continue;
        if (cmd.op === 'evict') {
          const inode = await namespaceInode(netnsPath(cmd.netns));
          if (change.kind === 'processes' && change.inode !== undefined && inode !== change.inode) {
            throw new Error(`/run/netns/${cmd.netns} is not the namespace the plan proved the lab's (inode ${inode ?? 'none'}, not ${change.inode}); its processes are left alone`);
          }
          const pids = (inode && byNamespace.get(inode)) || [];
          deps.log?.command({ tool: 'proc', netns: cmd.netns }, `kill ${pids.join(' ')}`);
          await stopAll(pids);
          continue;
        }
        if (!deps.recordDir) throw new Error('run commands need the lab\'s record directory');
        const file = runFile(deps.recordDir, cmd.node, cmd.key);
        if (cmd.op === 'stop') {
          const state = (await readRuns(deps.recordDir, cmd.node)).get(cmd.key);
          deps.log?.command({ tool: 'proc', netns: null }, `kill -- -${state?.pid ?? '?'}`);
          if (state?.alive) await stopAll([-state.pid]);
          await removeRunFile(file);
          continue;
        }
        deps.log?.command({ tool: 'proc', netns: null }, cmd.argv.join(' '));
        const log = file.replace(/\.json$/, '.log');
        await startRun(cmd.argv, file, log, change.kind === 'run' ? change.command : '');
      }
      outcome.done.push(change);
    } catch (error) {
      outcome.failed.push({ change, error: error as Error });
    }
  }
  return outcome;
}

function runBatch(batch: Batch, changes: Change[], deps: ExecuteDeps): Promise<BatchOutcome> {
  switch (batch.scope.tool) {
    case 'ip':
      return runIpBatch(batch.scope.netns, changes, deps);
    case 'sysctl':
      return runSysctlBatch(batch.scope.netns, changes, deps);
    case 'file':
      return runFileBatch(changes, deps);
    case 'nft':
      return runNftBatch(batch.scope.netns, changes, deps);
    case 'mount':
      return runMountBatch(changes, deps);
    case 'proc':
      return runProcBatch(changes, deps);
  }
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
      const outcome = first && runnable.length === batch.changes.length ? await first : await runBatch(batch, runnable, deps);
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
    const together = round.filter((b) => (b.scope.tool === 'ip' || b.scope.tool === 'sysctl') && !deps.signal?.aborted && !b.changes.some(isBlocked));
    const started = together.length > 1 || deps.readBack || deps.sysctlReadBack ? runJobBatches(together, deps, r) : undefined;
    const firsts = new Map(together.map((b, i) => [b, started?.then((outcomes) => outcomes[i]!)] as const));
    await Promise.all(round.map((batch) => limit(() => runUntilSettled(batch, firsts.get(batch)))));
  }
  return result;
}
