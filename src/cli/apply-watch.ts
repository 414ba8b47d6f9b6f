// What watches an apply as it runs: the progress line on a terminal and, with --json, one JSON
// line per change done, failed or skipped on stdout, then a summary line. The watch listens
// through the engine's onProgress, which the engine hands to execute.
import type { ApplyResult, EngineDeps } from '../engine.js';
import type { ProgressEvent } from '../kernel/progress.js';
import type { Change } from '../plan/change.js';
import { countActions, summarize } from '../plan/render.js';
import { versioned, type Output } from './output.js';
import { ProgressLine, ProgressMilestones, type ProgressStream } from './progress.js';
import { errorJson, unfinished } from './report.js';

export interface WatchOptions {
  json?: boolean;
  /** --quiet: no progress line either. */
  quiet?: boolean;
}

/** Where a quiet run's progress line goes: nowhere. */
const NOWHERE: ProgressStream = { isTTY: false, write: () => true };

function changeFields(change: Change): Record<string, unknown> {
  const { id, kind, action, node, netns } = change;
  return { id, kind, action, node, netns, summary: summarize(change) };
}

/** One JSON line per event, for tools; `begin` says how many changes will come. */
export function eventJson(lab: string, event: ProgressEvent): string | undefined {
  switch (event.type) {
    case 'begin':
      return JSON.stringify(versioned({ event: 'begin', lab, total: event.total }));
    case 'done':
    case 'skipped':
      return JSON.stringify(versioned({ event: event.type, ...changeFields(event.change) }));
    case 'failed':
      return JSON.stringify(versioned({ event: 'failed', ...changeFields(event.change), error: errorJson(event.error) }));
    case 'batch':
      return undefined;
  }
}

export class ApplyWatch {
  readonly progress: ProgressLine;
  /** No terminal for the line: plain lines on stdout between the plan and the summary. */
  private readonly milestones: ProgressMilestones | undefined;

  constructor(
    private readonly lab: string,
    private readonly options: WatchOptions,
    private readonly out: Output,
    stream: ProgressStream = process.stderr,
  ) {
    this.progress = new ProgressLine(`netlab apply ${lab}`, options.quiet ? NOWHERE : stream);
    if (!options.quiet && !options.json && !this.progress.enabled) this.milestones = new ProgressMilestones(`netlab apply ${lab}`, (line) => out.out(line));
  }

  /** The engine's dependencies with this watch plugged into execute. */
  deps(base: EngineDeps): EngineDeps {
    return {
      ...base,
      log: this.progress.wrapLog(base.log),
      onProgress: (event) => {
        this.progress.listener(event);
        this.milestones?.listener(event);
        if (!this.options.json) return;
        const line = eventJson(this.lab, event);
        if (line) this.out.out(line);
      },
    };
  }

  stop(): void {
    this.progress.stop();
  }

  /** --json: the run threw (conflict, verification, a read that failed): a summary that says so, with the error's data. */
  thrown(error: unknown): void {
    if (this.options.json) this.out.out(JSON.stringify(versioned({ event: 'summary', lab: this.lab, ok: false, error: errorJson(error) })));
  }

  /** --json: the closing line; failures are also told on stderr as without --json. Returns the exit code. */
  summary(result: ApplyResult, seconds: number, rerun: string): number {
    const execution = result.execution;
    const ok = (execution?.failed.length ?? 0) === 0 && (execution?.notStarted.length ?? 0) === 0;
    this.out.out(
      JSON.stringify(versioned({
        event: 'summary',
        lab: this.lab,
        ok,
        changes: countActions(result.plan.changes),
        done: execution?.done.length ?? 0,
        failed: execution?.failed.length ?? 0,
        skipped: execution?.skipped.length ?? 0,
        notStarted: execution?.notStarted.length ?? 0,
        rounds: result.rounds,
        seconds,
        verified: ok,
      })),
    );
    return (execution && unfinished(execution, rerun, this.out)) ?? 0;
  }
}
