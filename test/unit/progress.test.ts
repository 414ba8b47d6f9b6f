// apply's progress line (a terminal only) and apply --json's event lines. Pure: fake streams and clock.
import { describe, expect, it } from 'vitest';
import { ApplyWatch, eventJson } from '../../src/cli/apply-watch.js';
import type { Output } from '../../src/cli/output.js';
import { ProgressLine, type ProgressStream } from '../../src/cli/progress.js';
import type { ApplyResult, EngineDeps } from '../../src/engine.js';
import { DriverError } from '../../src/errors.js';
import type { Change } from '../../src/plan/change.js';

const change = (node: string, i: number): Change => ({ id: `address/${node}:eth0/198.51.100.${i}/24`, kind: 'address', action: 'create', node, netns: node, dev: 'eth0', cidr: `198.51.100.${i}/24`, reason: 'missing' });

function stream(isTTY: boolean): ProgressStream & { written: string[] } {
  const s = { isTTY, columns: 60, written: [] as string[], write: (t: string) => s.written.push(t) };
  return s;
}

function output(): Output & { stdout: string[]; stderr: string[] } {
  const o = { stdout: [] as string[], stderr: [] as string[], out: (t: string) => void o.stdout.push(t), err: (t: string) => void o.stderr.push(t) };
  return o;
}

describe('ProgressLine', () => {
  it('draws nothing when stderr is not a terminal', () => {
    const s = stream(false);
    const p = new ProgressLine('netlab apply lab', s, { delayMs: 0, now: () => 1000 });
    p.listener({ type: 'begin', total: 2 });
    p.listener({ type: 'batch', scope: { tool: 'ip', netns: 'c0' }, changes: [change('c0', 1)] });
    p.listener({ type: 'done', change: change('c0', 1) });
    p.stop();
    expect(s.written).toEqual([]);
  });

  it('on a terminal, shows steps done of the total and the current namespace, in place, once the run is long', () => {
    const s = stream(true);
    let t = 0;
    const p = new ProgressLine('netlab apply lab', s, { delayMs: 300, intervalMs: 0, now: () => t });
    p.listener({ type: 'begin', total: 3 });
    p.listener({ type: 'batch', scope: { tool: 'ip', netns: null }, changes: [change('c0', 1)] });
    expect(s.written).toEqual([]); // a short run shows nothing
    t = 500;
    p.listener({ type: 'done', change: change('c0', 1) });
    expect(s.written.at(-1)).toBe('\r\x1b[Knetlab apply lab: 1/3 changes — root namespace');
    p.listener({ type: 'batch', scope: { tool: 'ip', netns: 'c0' }, changes: [change('c0', 2)] });
    p.listener({ type: 'failed', change: change('c0', 2), error: new Error('x') });
    expect(s.written.at(-1)).toBe('\r\x1b[Knetlab apply lab: 2/3 changes, 1 failed — namespace c0');
    // apply -v lines take the line off first.
    const logged: string[] = [];
    p.wrapLog({ command: (_scope, text) => logged.push(text) })!.command({ tool: 'ip', netns: 'c0' }, 'addr replace ...');
    expect(s.written.at(-1)).toBe('\r\x1b[K');
    expect(logged).toEqual(['addr replace ...']);
    p.listener({ type: 'skipped', change: change('c0', 3) });
    p.stop();
    expect(s.written.at(-1)).toBe('\r\x1b[K');
  });

  it('fits the line to the terminal', () => {
    const s = stream(true);
    s.columns = 30;
    const p = new ProgressLine('netlab apply a-rather-long-lab-name', s, { delayMs: 0, intervalMs: 0, now: () => 10 });
    p.listener({ type: 'begin', total: 1 });
    p.listener({ type: 'batch', scope: { tool: 'ip', netns: 'namespace-with-a-long-name' }, changes: [] });
    expect(s.written.at(-1)!.replace('\r\x1b[K', '').length).toBe(29);
    p.stop();
  });
});

describe('apply --json', () => {
  it('is one line per change done, failed or skipped, with the failing command', () => {
    expect(JSON.parse(eventJson('lab', { type: 'done', change: change('c0', 1) })!)).toEqual({
      format_version: 1,
      event: 'done',
      id: 'address/c0:eth0/198.51.100.1/24',
      kind: 'address',
      action: 'create',
      node: 'c0',
      netns: 'c0',
      summary: 'address 198.51.100.1/24 on c0:eth0',
    });
    const error = new DriverError(['ip', '-batch', '-'], 2, 'RTNETLINK answers: File exists\n');
    expect(JSON.parse(eventJson('lab', { type: 'failed', change: change('c0', 1), error })!)).toMatchObject({
      event: 'failed',
      error: { command: 'ip -batch -', exitCode: 2, stderr: 'RTNETLINK answers: File exists' },
    });
    expect(eventJson('lab', { type: 'batch', scope: { tool: 'ip', netns: null }, changes: [] })).toBeUndefined();
  });

  it('streams the events through the engine deps, then a summary; without --json stdout gets none', () => {
    const base = { runner: { run: async () => ({ exitCode: 0, stdout: '', stderr: '' }) }, concurrency: 1, stateDir: '/nowhere' } as EngineDeps;
    const out = output();
    const watch = new ApplyWatch('lab', { json: true }, out, stream(false));
    const deps = watch.deps(base);
    deps.onProgress!({ type: 'begin', total: 1 });
    deps.onProgress!({ type: 'done', change: change('c0', 1) });
    const result: ApplyResult = { plan: { lab: 'lab', changes: [change('c0', 1)], conflicts: [] }, execution: { done: [change('c0', 1)], failed: [], skipped: [], notStarted: [], readBack: new Map(), sysctlReadBack: new Map() }, rounds: 1 };
    expect(watch.summary(result, 0.25, 'netlab apply lab.yaml')).toBe(0);
    expect(out.stdout.map((l) => JSON.parse(l) as { event: string })).toEqual([
      { format_version: 1, event: 'begin', lab: 'lab', total: 1 },
      expect.objectContaining({ event: 'done' }),
      { format_version: 1, event: 'summary', lab: 'lab', ok: true, changes: { create: 1, update: 0, delete: 0 }, done: 1, failed: 0, skipped: 0, notStarted: 0, rounds: 1, seconds: 0.25, verified: true },
    ]);

    const quiet = output();
    const plain = new ApplyWatch('lab', {}, quiet, stream(false)).deps(base);
    plain.onProgress!({ type: 'done', change: change('c0', 1) });
    expect(quiet.stdout).toEqual([]);
  });

  it('ends a run that threw with a summary that is not ok', () => {
    const out = output();
    new ApplyWatch('lab', { json: true }, out, stream(false)).thrown(new Error('namespace c0 already exists'));
    expect(JSON.parse(out.stdout[0]!)).toEqual({ format_version: 1, event: 'summary', lab: 'lab', ok: false, error: { message: 'namespace c0 already exists' } });
  });
});

describe('progress without a terminal', () => {
  const events = (n: number, failAt = -1) => [
    { type: 'begin' as const, total: n },
    ...Array.from({ length: n }, (_, i) => (i === failAt ? { type: 'failed' as const, change: change('c0', i), error: new Error('x') } : { type: 'done' as const, change: change('c0', i) })),
  ];

  it('tells each quarter of a long run on stdout, between the plan and the summary, counted not timed', () => {
    const out = output();
    const deps = new ApplyWatch('lab', {}, out, stream(false)).deps({} as EngineDeps);
    for (const e of events(40, 3)) deps.onProgress!(e);
    expect(out.stdout).toEqual(['netlab apply lab: 10/40 changes done, 1 failed', 'netlab apply lab: 20/40 changes done, 1 failed', 'netlab apply lab: 30/40 changes done, 1 failed']);
  });

  it('says nothing for a short run, with --quiet or --json, or when the line is on a terminal', () => {
    for (const [options, tty, n] of [[{}, false, 19], [{ quiet: true }, false, 40], [{ json: true }, false, 40], [{}, true, 40]] as const) {
      const out = output();
      const deps = new ApplyWatch('lab', options, out, stream(tty)).deps({} as EngineDeps);
      for (const e of events(n)) deps.onProgress!(e);
      expect(out.stdout.filter((l) => l.includes('changes done'))).toEqual([]);
    }
  });
});
