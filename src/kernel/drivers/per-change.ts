// The one loop of the drivers that act from netlab's own process (files, mounts, processes): one
// change after another, a change that throws failed and the rest still run, since what depends on
// it is the scheduler's to hold back.
import type { Change } from '../../plan/change.js';
import { commandsOf } from '../../resources/registry.js';
import type { Command } from '../../resources/resource.js';
import type { BatchOutcome, Tool } from './types.js';

/** A change's commands for one tool: the others are carried out by their own tool's batch. */
export function commandsFor<T extends Tool>(change: Change, tool: T): Array<Extract<Command, { tool: T }>> {
  return commandsOf(change).filter((c): c is Extract<Command, { tool: T }> => c.tool === tool);
}

export async function eachChange(changes: readonly Change[], carryOut: (change: Change) => Promise<void>): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { done: [], failed: [] };
  for (const change of changes) {
    try {
      await carryOut(change);
      outcome.done.push(change);
    } catch (error) {
      outcome.failed.push({ change, error: error as Error });
    }
  }
  return outcome;
}
