// How plans and runs are told: a plan with what --node left out; a run that stopped part way,
// with what failed and why, what was done, what was skipped; a run refused for its conflicts or
// left unverified, as text and as JSON.
import chalk from 'chalk';
import { STDIN_NAME } from '../config/load.js';
import { ConflictError, DriverError, VerificationError } from '../errors.js';
import { hintFor } from '../kernel/hints.js';
import type { ExecuteResult } from '../kernel/execute.js';
import type { LabPlan } from '../engine.js';
import { planToJson, renderPlan, summarize } from '../plan/render.js';
import { describeLeftOut } from '../plan/target.js';
import type { Output } from './output.js';

/**
 * A run that did not get through: its failures or where Ctrl-C stopped it, on stderr, and the exit
 * code to end with; undefined when everything was done.
 */
export function unfinished(result: ExecuteResult, rerun: string, out: Output): number | undefined {
  if (result.failed.length > 0) {
    out.err(renderFailures(result, rerun));
    return 1;
  }
  if (result.notStarted.length > 0) {
    out.err(renderInterrupted(result, rerun));
    return EXIT_INTERRUPTED;
  }
  return undefined;
}

/** The shell's convention for a run ended by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

export function renderInterrupted(result: ExecuteResult, rerun: string): string {
  const lines = [chalk.yellow(`interrupted: ${result.done.length} change(s) done, ${result.notStarted.length} not started:`)];
  for (const c of result.notStarted) lines.push(`  ${summarize(c)}`);
  lines.push(`Nothing is half done: run \`${rerun}\` again to go on from here.`);
  return `${lines.join('\n')}\n`;
}

export function renderFailures(result: ExecuteResult, rerun: string): string {
  const lines = [chalk.red(`error: ${result.failed.length} change(s) failed:`)];
  for (const { change, error } of result.failed) {
    lines.push(`  ${summarize(change)} (${change.reason})`);
    if (error instanceof DriverError) {
      lines.push(`    command: ${error.argv.join(' ')}`, `    exit ${error.exitCode}: ${error.stderr.trim() || '(no message)'}`);
      const hint = hintFor(error.stderr);
      if (hint) lines.push(`    hint: ${hint}`);
    } else {
      lines.push(`    ${error.message}`);
    }
  }
  lines.push(`done: ${result.done.length} change(s).`);
  if (result.skipped.length) {
    lines.push(`skipped, because they depend on a failed change: ${result.skipped.length}:`);
    for (const c of result.skipped) lines.push(`  ${summarize(c)}`);
  }
  lines.push(`Fix the cause and run \`${rerun}\` again: it goes on from where this run stopped.`);
  return `${lines.join('\n')}\n`;
}

/** A plan as `plan` and `apply` print it; with --node, followed by what was left out. */
export function renderLabPlan(planned: LabPlan): string {
  const leftOut = planned.selection && describeLeftOut(planned.selection);
  return `${renderPlan(planned.plan)}${leftOut ? `${leftOut}\n` : ''}`;
}

/** With --node, what was left out, for the JSON of a plan. */
export function leftOutJson(planned: LabPlan): { left_out?: { nodes: string[]; links: string[] } } {
  const s = planned.selection;
  return s ? { left_out: { nodes: s.leftOut.nodes, links: s.leftOut.links } } : {};
}

/**
 * The command that runs a stopped apply or destroy again, with its --node flags: "netlab apply
 * --node a FILE". A lab read from stdin is read from it again (`-`), not from "<stdin>".
 */
export function rerunCommand(command: 'apply' | 'destroy', nodes: readonly string[] | undefined, target: string): string {
  const flags = (nodes ?? []).map((n) => `--node ${n} `).join('');
  return `netlab ${command} ${flags}${target === STDIN_NAME ? '-' : target}`;
}

/** apply refused: the plan's conflicts as plan prints them, then why nothing was changed. */
export function renderConflicts(error: ConflictError): string {
  return `${renderPlan({ ...error.plan, changes: [] })}error: apply refuses while something the lab would create belongs to someone else; nothing was changed.`;
}

/** After the run the kernel still differs: what is left, as plan prints it. */
export function renderUnverified(error: VerificationError): string {
  const heading = error.after === 'apply' ? 'after the run the kernel still differs from the file' : 'after destroy the lab still has';
  return `error: ${heading}:\n${renderPlan(error.plan)}`;
}

/**
 * An error as JSON for tools: a failed command with its exit code and stderr, conflicts as
 * {node, netns, reason}, and what verify found left as the changes and conflicts `plan --json` prints.
 */
export function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof DriverError) {
    return { message: error.message, command: error.argv.join(' '), exitCode: error.exitCode, stderr: error.stderr.trim() };
  }
  if (error instanceof ConflictError) {
    return { message: error.message, conflicts: error.conflicts.map(({ node, netns, reason }) => ({ node, netns, reason })) };
  }
  if (error instanceof VerificationError) {
    const { changes, conflicts } = planToJson(error.plan) as { changes: unknown[]; conflicts: unknown[] };
    return { message: error.message, changes, conflicts };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}
