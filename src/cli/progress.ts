// apply's progress line on a terminal: "netlab: 12/40 changes — namespace c0", redrawn in place
// with \r on stderr. Never drawn when stderr is not a terminal, and not for runs that end within
// a moment; cleared before any other line is written to stderr, and when the run ends.
import type { ExecuteLog } from '../kernel/execute.js';
import type { ProgressEvent } from '../kernel/progress.js';

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Nothing is drawn until the run has taken this long (ms). */
  delayMs?: number;
  /** Redraws at most this often (ms). */
  intervalMs?: number;
  now?: () => number;
}

const CLEAR = '\r\x1b[K';

export class ProgressLine {
  private total = 0;
  private settled = 0;
  private failed = 0;
  private where = '';
  private started = 0;
  private drawnAt = -Infinity;
  private shown = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly delayMs: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly label: string,
    private readonly stream: ProgressStream,
    options: ProgressOptions = {},
  ) {
    this.delayMs = options.delayMs ?? 300;
    this.intervalMs = options.intervalMs ?? 80;
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether this stream gets a progress line at all. */
  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  readonly listener = (event: ProgressEvent): void => {
    if (!this.enabled) return;
    switch (event.type) {
      case 'begin':
        this.total = event.total;
        this.started = this.now();
        this.timer = setTimeout(() => this.draw(true), this.delayMs);
        this.timer.unref?.();
        return;
      case 'batch':
        this.where = event.scope.netns === null ? 'root namespace' : `namespace ${event.scope.netns}`;
        break;
      case 'failed':
        this.failed += 1;
        this.settled += 1;
        break;
      case 'done':
      case 'skipped':
        this.settled += 1;
        break;
    }
    this.draw(false);
  };

  /** The line as drawn, without terminal codes. */
  text(): string {
    const failed = this.failed ? `, ${this.failed} failed` : '';
    return `${this.label}: ${this.settled}/${this.total} changes${failed}${this.where ? ` — ${this.where}` : ''}`;
  }

  private draw(force: boolean): void {
    const t = this.now();
    if (t - this.started < this.delayMs && !force) return;
    if (!force && t - this.drawnAt < this.intervalMs) return;
    this.drawnAt = t;
    // A terminal that does not say its width (columns 0) gets 80.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`${CLEAR}${this.text().slice(0, width)}`);
    this.shown = true;
  }

  /** Takes the line off the screen (before another line is written, or at the end). */
  clear(): void {
    if (this.shown) this.stream.write(CLEAR);
    this.shown = false;
    this.drawnAt = -Infinity;
  }

  /** A command log (apply -v) that keeps its lines and the progress line apart. */
  wrapLog(log: ExecuteLog | undefined): ExecuteLog | undefined {
    if (!log || !this.enabled) return log;
    return {
      command: (scope, text) => {
        this.clear();
        log.command(scope, text);
      },
    };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }
}

/**
 * Progress where there is no terminal (a pipe, a CI log): a plain line as each quarter of the
 * changes is settled, between the plan and the summary. Counted, not timed, so the same run always
 * prints the same lines; a run of fewer than MILESTONE_MIN changes prints none.
 */
export const MILESTONE_MIN = 20;

export class ProgressMilestones {
  private total = 0;
  private settled = 0;
  private failed = 0;
  private quarter = 0;

  constructor(
    private readonly label: string,
    private readonly write: (line: string) => void,
  ) {}

  readonly listener = (event: ProgressEvent): void => {
    if (event.type === 'begin') this.total = event.total;
    if (event.type === 'batch' || this.total < MILESTONE_MIN) return;
    if (event.type === 'begin') return;
    this.settled += 1;
    if (event.type === 'failed') this.failed += 1;
    // The last quarter is the summary's to tell.
    const reached = Math.floor((this.settled * 4) / this.total);
    if (reached > this.quarter && reached < 4) {
      this.quarter = reached;
      const failed = this.failed ? `, ${this.failed} failed` : '';
      this.write(`${this.label}: ${this.settled}/${this.total} changes done${failed}`);
    }
  };
}
