// A refused or unverified run is thrown as data (the plan's conflicts, what is left), and the CLI
// tells it: as text on stderr, and as structured objects in apply --json's summary.
import chalk from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyWatch } from '../../src/cli/apply-watch.js';
import type { Output } from '../../src/cli/output.js';
import { errorJson, renderConflicts, renderUnverified } from '../../src/cli/report.js';
import { ConflictError, VerificationError } from '../../src/errors.js';
import type { Change, Conflict, Plan } from '../../src/plan/change.js';
import { planToJson } from '../../src/plan/render.js';

const conflict: Conflict = { node: 'c0', netns: 'c0', reason: 'namespace c0 already exists and belongs to something other than netlab' };
const address: Change = { id: 'address/c0:eth0/198.51.100.1/24', kind: 'address', action: 'create', node: 'c0', netns: 'c0', dev: 'eth0', cidr: '198.51.100.1/24', reason: 'missing' };
const refused: Plan = { lab: 'demo', changes: [address], conflicts: [conflict] };
const left: Plan = { lab: 'demo', changes: [address], conflicts: [] };

function output(): Output & { stdout: string[] } {
  const o = { stdout: [] as string[], out: (t: string) => void o.stdout.push(t), err: () => undefined };
  return o;
}

let level: typeof chalk.level;
beforeAll(() => ((level = chalk.level), (chalk.level = 0)));
afterAll(() => void (chalk.level = level));

describe('ConflictError', () => {
  it('carries the plan and its conflicts, and says them in one plain line', () => {
    const error = new ConflictError(refused);
    expect(error.conflicts).toEqual([conflict]);
    expect(error.plan).toBe(refused);
    expect(error.message).toBe('conflict on c0: namespace c0 already exists and belongs to something other than netlab');
  });

  it('is told as the conflicts plan prints, then why nothing was changed', () => {
    expect(renderConflicts(new ConflictError(refused))).toBe(
      '! conflict on c0: namespace c0 already exists and belongs to something other than netlab\n' +
        '\n' +
        'Lab demo: 0 to create, 0 to change, 0 to delete.\n' +
        '1 conflict(s): apply will refuse and change nothing.\n' +
        'error: apply refuses while something the lab would create belongs to someone else; nothing was changed.',
    );
  });

  it("is apply --json's summary error as {node, netns, reason} objects", () => {
    const out = output();
    new ApplyWatch('demo', { json: true }, out, { isTTY: false, write: () => true }).thrown(new ConflictError(refused));
    expect(JSON.parse(out.stdout[0]!)).toEqual({
      format_version: 1,
      event: 'summary',
      lab: 'demo',
      ok: false,
      error: { message: 'conflict on c0: namespace c0 already exists and belongs to something other than netlab', conflicts: [conflict] },
    });
  });
});

describe('VerificationError', () => {
  it('carries the plan of what is left, and is told as apply and destroy told it', () => {
    const error = new VerificationError(left, 'apply');
    expect(error.plan).toBe(left);
    expect(error.message).toBe('after the run the kernel still differs from the file: 1 change(s), 0 conflict(s)');
    expect(renderUnverified(error)).toMatch(/^error: after the run the kernel still differs from the file:\n\+ address 198\.51\.100\.1\/24 on c0:eth0 +missing\n/);
    expect(renderUnverified(new VerificationError(left, 'destroy'))).toMatch(/^error: after destroy the lab still has:\n\+ address/);
  });

  it('gives tools the changes left as plan --json writes them', () => {
    const json = planToJson(left) as { changes: unknown[] };
    expect(errorJson(new VerificationError(left, 'apply'))).toEqual({ message: expect.stringContaining('1 change(s)'), changes: json.changes, conflicts: [] });
    expect(json.changes).toEqual([expect.objectContaining({ id: address.id, action: 'create', summary: 'address 198.51.100.1/24 on c0:eth0', commands: [expect.stringContaining('198.51.100.1/24')] })]);
  });
});
