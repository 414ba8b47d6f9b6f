// Saved plans (`netlab plan --out PLAN`, then `netlab apply PLAN`): what the file holds, and when
// it is stale. Pure; the CLI reads and writes the file.
//
// A saved plan is applied only while everything it was made from is as it was: the lab file's
// content, what the kernel showed of each node, and the lab's record. Apply reads and plans again
// under its lock and compares; any difference refuses the run before anything is written.
import { createHash } from 'node:crypto';
import type { LabState } from '../model/types.js';
import type { LabRecord } from '../state/record.js';

export const SAVED_PLAN_FORMAT = 'netlab-plan';
export const SAVED_PLAN_VERSION = 1;

export interface SavedPlan {
  format: typeof SAVED_PLAN_FORMAT;
  format_version: number;
  lab: string;
  /** The lab file, absolute. */
  file: string;
  /** The file's text as planned, and its sha256. */
  content: string;
  file_sha256: string;
  /** --node the plan was made with; absent for the whole lab. */
  nodes?: string[];
  /** Per node read, a hash of what the kernel showed (fingerprintNodes). */
  kernel: Record<string, string>;
  /** A hash of the lab's record as it was (null: none). */
  record: string | null;
  /** The plan as `plan --json` prints it: what apply must find again to go ahead. */
  plan: unknown;
  made: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * What of a read state says the kernel changed. Left out: what moves on its own without the lab
 * or anyone changing it — carrier (the link watcher), the processes in a namespace, and netns ids
 * (the kernel hands them out as namespaces are looked at).
 */
const VOLATILE = new Set(['carrier', 'pids', 'peerNetnsId']);

function canonical(value: unknown): unknown {
  if (value instanceof Map) return [...value.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([k, v]) => [k, canonical(v)]);
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([k, v]) => !VOLATILE.has(k) && v !== undefined);
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

export function fingerprintNodes(actual: LabState): Record<string, string> {
  return Object.fromEntries([...actual.nodes].sort(([a], [b]) => a.localeCompare(b)).map(([name, node]) => [name, sha256(JSON.stringify(canonical(node)))]));
}

export function fingerprintRecord(record: LabRecord | undefined): string | null {
  return record ? sha256(JSON.stringify(canonical(record.nodes))) : null;
}

export interface PlanMade {
  kernel: Record<string, string>;
  record: string | null;
  plan: unknown;
}

function changeCount(plan: unknown): number {
  const changes = (plan as { changes?: unknown[] } | null)?.changes;
  return Array.isArray(changes) ? changes.length : 0;
}

/** Why a saved plan may not be applied now, as the end of "the plan is stale: ..."; undefined when it may. */
export function staleness(saved: Pick<SavedPlan, 'kernel' | 'record' | 'plan'>, now: PlanMade): string | undefined {
  const nodes = [...new Set([...Object.keys(saved.kernel), ...Object.keys(now.kernel)])].sort();
  const changed = nodes.filter((n) => saved.kernel[n] !== now.kernel[n]);
  if (changed.length > 0) return `the kernel changed since it was made (node${changed.length > 1 ? 's' : ''} ${changed.join(', ')} read differently)`;
  if (saved.record !== now.record) return "the lab's record changed since it was made (it was applied or destroyed since)";
  if (JSON.stringify(saved.plan) !== JSON.stringify(now.plan)) {
    return `netlab now plans ${changeCount(now.plan)} change(s) where the saved plan has ${changeCount(saved.plan)}`;
  }
  return undefined;
}

/** The fields every saved plan has, checked before any is used; the problem, or undefined. */
export function savedPlanProblem(value: Record<string, unknown>): string | undefined {
  if (value.format_version !== SAVED_PLAN_VERSION) {
    return `it has plan format ${String(value.format_version)}, and this netlab reads format ${SAVED_PLAN_VERSION} — make it again with netlab plan --out`;
  }
  const missing: string[] = ['lab', 'file', 'content', 'file_sha256'].filter((k) => typeof value[k] !== 'string');
  if (typeof value.kernel !== 'object' || value.kernel === null) missing.push('kernel');
  if (missing.length > 0) return `it is damaged (${missing.join(', ')} missing)`;
  if (value.nodes !== undefined && !(Array.isArray(value.nodes) && value.nodes.every((n) => typeof n === 'string'))) return 'it is damaged (nodes is not a list of names)';
  return undefined;
}
