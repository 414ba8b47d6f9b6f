// Whether a lab is there to be tested: every namespace it makes exists and carries its mark. Pure:
// judged from the engine's plan (the desired and actual state it read).
import { kindOf, type LabSpec } from '../model/spec.js';
import type { LabState } from '../model/types.js';
import type { Conflict, Plan } from '../plan/change.js';

/**
 * Why the lab is not applied, for the first node that shows it; undefined when it is applied.
 * `recorded`: whether the lab has a record (see state/record.ts). It decides only for a lab made
 * of host and attach nodes, which have no namespace of the lab's to look for. `conflicts`: the
 * plan's; something the lab would make that is someone else's means the lab is not (all) there.
 */
export function notAppliedReason(spec: LabSpec, desired: LabState, actual: LabState, recorded = true, conflicts: readonly Conflict[] = []): string | undefined {
  const ownsANamespace = [...desired.nodes.keys()].some((name) => kindOf(spec.nodes[name] ?? {}) === 'netns');
  if (!ownsANamespace && !recorded) return 'netlab has no record of applying it';
  for (const name of [...desired.nodes.keys()].sort()) {
    const want = desired.nodes.get(name)!;
    const have = actual.nodes.get(name);
    const kind = kindOf(spec.nodes[name] ?? {});
    if (!have?.exists) return kind === 'host' ? `node ${name} is missing` : `namespace ${want.netns} does not exist`;
    // Only namespaces the lab creates carry its mark; host and attach nodes are someone else's.
    if (kind !== 'netns' || have.owner === desired.lab) continue;
    return have.owner === undefined
      ? `namespace ${want.netns} exists but is not marked as the lab's (made by hand, or an apply that stopped early)`
      : `namespace ${want.netns} belongs to lab ${have.owner}`;
  }
  return conflicts[0]?.reason;
}

/** The warning for a lab that is applied but differs from the file; undefined when it does not. */
export function driftWarning(lab: string, file: string, plan: Plan): string | undefined {
  const n = plan.changes.length;
  if (n === 0) return undefined;
  const nodes = [...new Set(plan.changes.map((c) => c.node))].sort();
  return `warning: lab ${lab} has drifted from ${file}: apply would make ${n} change(s) on ${nodes.join(', ')} (see netlab plan ${file}); testing the lab as it is`;
}
