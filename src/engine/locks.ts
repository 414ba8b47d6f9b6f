// The locks apply and destroy hold while they run: one per lab, and the root namespace's.
import type { LabState } from '../model/types.js';
import { acquireAll } from '../state/lock.js';
import type { LabRecord } from '../state/record.js';
import type { EngineDeps } from './deps.js';

/** The locks a run takes: its lab's, and the root namespace's when it has a kind: host node. */
export function lockNames(lab: string, desired: LabState | undefined, record: LabRecord | undefined): string[] {
  const kinds = [...(desired?.nodes.values() ?? [])].map((n) => n.kind).concat(Object.values(record?.nodes ?? {}).map((n) => n.kind));
  return kinds.includes('host') ? [`lab-${lab}`, 'root-namespace'] : [`lab-${lab}`];
}

export async function locked<T>(names: string[], deps: EngineDeps, run: () => Promise<T>): Promise<T> {
  const lock = await acquireAll(deps.stateDir, names, { waitMs: deps.lockWaitMs ?? 60_000, onWait: deps.onLockWait });
  try {
    return await run();
  } finally {
    await lock.release();
  }
}
