// Errors the CLI turns into messages and exit codes.
import type { Diagnostic } from './diagnostics.js';
import type { Conflict, Plan } from './plan/change.js';

/** The lab file is wrong: exit 65 with every diagnostic. */
export class ConfigError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`the lab file has ${diagnostics.length} problem(s)`);
  }
}

/** A kernel command failed. */
export class DriverError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
    readonly input?: string,
  ) {
    super(`${argv.join(' ')} exited ${exitCode}: ${stderr.trim()}`);
  }
}

/** Something the lab would create exists and is not the lab's: the plan with its conflicts, for the CLI to tell. */
export class ConflictError extends Error {
  readonly conflicts: readonly Conflict[];

  constructor(readonly plan: Plan) {
    super(plan.conflicts.map((c) => `conflict on ${c.node}: ${c.reason}`).join('; '));
    this.conflicts = plan.conflicts;
  }
}

/** After apply (or destroy) the kernel still differs from what it should be: the plan of what is left. */
export class VerificationError extends Error {
  constructor(
    readonly plan: Plan,
    readonly after: 'apply' | 'destroy',
  ) {
    const left = `${plan.changes.length} change(s), ${plan.conflicts.length} conflict(s)`;
    super(after === 'apply' ? `after the run the kernel still differs from the file: ${left}` : `after destroy the lab still has ${left}`);
  }
}

/** Anything else a user can act on: one clear line, exit 1. */
export class UserError extends Error {}

/** The changes of a plan depend on each other in a circle: a bug in netlab, named so it can be reported. */
export class CycleError extends Error {
  constructor(readonly cycles: string[][]) {
    super(`the changes depend on each other in a cycle: ${cycles.map((c) => c.join(' → ')).join('; ')}`);
  }
}
