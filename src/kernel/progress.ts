// What execute tells a listener as it goes (apply's progress line on a terminal, apply --json).
import type { Change } from '../plan/change.js';
import type { Scope } from '../resources/resource.js';

export type ProgressEvent =
  /** Before anything runs: how many changes the run holds. */
  | { type: 'begin'; total: number }
  /** A batch (one process) starts: where, and which changes it carries. */
  | { type: 'batch'; scope: Scope; changes: readonly Change[] }
  | { type: 'done'; change: Change }
  | { type: 'failed'; change: Change; error: Error }
  /** Not run: something it depends on failed. */
  | { type: 'skipped'; change: Change };

export type ProgressListener = (event: ProgressEvent) => void;
