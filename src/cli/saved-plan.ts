// Saved plans on disk: `plan --out` writes one, `apply PLAN` reads it and refuses a stale one.
// What they hold and when they are stale: plan/saved.ts.
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { LabPlan } from '../engine.js';
import { UserError } from '../errors.js';
import { planToJson } from '../plan/render.js';
import { fingerprintNodes, fingerprintRecord, SAVED_PLAN_FORMAT, SAVED_PLAN_VERSION, savedPlanProblem, sha256, staleness, type PlanMade, type SavedPlan } from '../plan/saved.js';

/** Larger than the plan of any lab (the file's text and the plan with its commands). */
const MAX_PLAN_BYTES = 256 * 1024 * 1024;

export function planMade(planned: LabPlan): PlanMade {
  return { kernel: fingerprintNodes(planned.actual), record: fingerprintRecord(planned.record), plan: planToJson(planned.plan) };
}

export function savedPlan(planned: LabPlan, file: string, content: string, nodes: readonly string[] | undefined): SavedPlan {
  return {
    format: SAVED_PLAN_FORMAT,
    format_version: SAVED_PLAN_VERSION,
    lab: planned.plan.lab,
    file: resolve(file),
    content,
    file_sha256: sha256(content),
    ...(nodes ? { nodes: [...nodes] } : {}),
    ...planMade(planned),
    made: new Date().toISOString(),
  };
}

/** Atomic, as the record: a reader sees the old plan or the new one. */
export async function writeSavedPlan(path: string, plan: SavedPlan): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(plan, null, 2)}\n`);
    await rename(tmp, path);
  } catch (e) {
    throw new UserError(`cannot save the plan to ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)} — give a path in a directory you can write to`);
  }
}

/** The saved plan at `path`; undefined when `path` is something else (a lab file). */
export async function readSavedPlan(path: string): Promise<SavedPlan | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile() || info.size > MAX_PLAN_BYTES) return undefined;
  const text = await readFile(path, 'utf8').catch(() => '');
  // A lab file may be JSON too: only the format field says it is a plan.
  if (!text.trimStart().startsWith('{') || !text.includes(SAVED_PLAN_FORMAT)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || (value as { format?: unknown }).format !== SAVED_PLAN_FORMAT) return undefined;
  const problem = savedPlanProblem(value as Record<string, unknown>);
  if (problem) throw new UserError(`${path} is a saved plan, but ${problem}`);
  return value as SavedPlan;
}

function remake(saved: SavedPlan, path: string): string {
  const nodes = (saved.nodes ?? []).map((n) => ` --node ${n}`).join('');
  return `make a new one with netlab plan${nodes} --out ${path} ${saved.file}`;
}

/** Refuses when the lab file is not, byte for byte, the one planned. */
export async function checkFileUnchanged(saved: SavedPlan, path: string): Promise<void> {
  const now = await readFile(saved.file, 'utf8').catch(() => undefined);
  if (now === undefined) throw new UserError(`the plan is stale: the file changed since it was made (${saved.file} is gone); ${remake(saved, path)}`);
  if (sha256(now) !== saved.file_sha256) throw new UserError(`the plan is stale: the file changed since it was made (${saved.file}); ${remake(saved, path)}`);
}

/** Refuses when the kernel, the record or the plan read now is not what the saved plan was made from. */
export function checkStillCurrent(saved: SavedPlan, path: string, planned: LabPlan): void {
  const why = staleness(saved, planMade(planned));
  if (why) throw new UserError(`the plan is stale: ${why}; ${remake(saved, path)}`);
}
