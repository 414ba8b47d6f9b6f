// A node that changes kind (netns ↔ host ↔ attach): its old kind is taken away first, as its part
// of a destroy, and the new kind is then made from nothing.
import type { LabState } from '../model/types.js';
import type { Plan } from '../plan/change.js';
import { kindChanges, recordOf } from '../state/kind-change.js';
import type { LabRecord } from '../state/record.js';
import type { EngineDeps } from './deps.js';
import { planFor } from './plan-for.js';

/** What taking away the old kind of nodes that change kind does: their part of a destroy. */
export async function retirementOf(desired: LabState, record: LabRecord | undefined, deps: EngineDeps): Promise<{ nodes: string[]; plan?: Plan }> {
  const nodes = kindChanges(record, desired).filter((n) => !deps.nodes || deps.nodes.includes(n));
  if (nodes.length === 0) return { nodes };
  return { nodes, plan: (await planFor({ lab: desired.lab, nodes: new Map() }, recordOf(record!, nodes), { ...deps, nodes: undefined })).plan };
}

/** The old kind's removal, then the new kind's making: one plan, in the order apply runs them. */
export function joined(first: Plan | undefined, then: Plan): Plan {
  if (!first) return then;
  return { lab: then.lab, changes: [...first.changes, ...then.changes], conflicts: [...first.conflicts, ...then.conflicts] };
}
