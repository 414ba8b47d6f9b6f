// Test results for people (a table, then one file:line line per failure) and for tools (JSON). Pure.
import chalk, { type ChalkInstance } from 'chalk';
import { failureReason, passes, type Got, type Outcome } from './outcome.js';
import type { Check, LabTest } from './resolve.js';

export interface TestResult {
  test: LabTest;
  outcome: Outcome;
  /** Wall time of the test, listener included. */
  seconds: number;
  /** How often a test with `within` was tried. */
  tries?: number;
}

export interface TestRun {
  lab: string;
  file: string;
  results: TestResult[];
  seconds: number;
  /** Changes `netlab apply` would make: the lab as tested differs from the file. */
  drift: number;
  /** Set when the run was stopped (Ctrl-C) before every test ran. */
  interrupted?: boolean;
}

export function passed(result: TestResult): boolean {
  return passes(result.test.expect, result.outcome);
}

export function allPassed(run: TestRun): boolean {
  return !run.interrupted && run.results.every(passed);
}

function seconds(s: number): string {
  return `${s.toFixed(2)} s`;
}

/** file:line:col of a test, as diagnostics print it. */
export function testPlace(file: string, test: LabTest): string {
  return test.line > 0 ? `${file}:${test.line}:${test.col}` : file;
}

export function renderTable(run: TestRun, c: ChalkInstance = chalk): string {
  const header = ['RESULT', 'LINE', 'TEST', 'EXPECTED', 'GOT', 'TIME', 'WHY'];
  const rows = run.results.map((r) => {
    const ok = passed(r);
    return {
      ok,
      cells: [
        ok ? 'pass' : 'FAIL',
        r.test.line > 0 ? String(r.test.line) : '-',
        r.test.label,
        r.test.expect,
        r.outcome.got,
        seconds(r.seconds),
        ok ? '' : failureReason(r.test.expect, r.outcome, r.test.check.kind),
      ],
    };
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row.cells[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const lines = [c.bold(line(header))];
  for (const row of rows) {
    const text = line(row.cells);
    lines.push(row.ok ? text : c.red(text));
  }
  const failed = run.results.filter((r) => !passed(r)).length;
  const summary = `${run.results.length - failed} passed, ${failed} failed (lab ${run.lab}, ${seconds(run.seconds)})`;
  lines.push('', failed === 0 && !run.interrupted ? c.green(summary) : c.red(summary));
  if (run.interrupted) lines.push(c.red('interrupted: the tests not listed did not run; every listener was stopped'));
  return `${lines.join('\n')}\n`;
}

/** One line per failing test, file:line:col first, for editors and logs. */
export function renderFailures(run: TestRun): string[] {
  return run.results
    .filter((r) => !passed(r))
    .map((r) => `${testPlace(run.file, r.test)}: test ${r.test.number} failed: ${r.test.label}: expected ${r.test.expect}, got ${r.outcome.got}: ${failureReason(r.test.expect, r.outcome, r.test.check.kind)}`);
}

export interface TestResultJson {
  number: number;
  line: number;
  col: number;
  test: string;
  from: string;
  kind: Check['kind'];
  address: string;
  port?: number;
  proto?: 'tcp' | 'udp';
  serve?: string;
  size?: number;
  df?: boolean;
  count?: number;
  via?: string;
  dev?: string;
  source?: string;
  mark?: number;
  /** trace: the nodes wanted, in order. */
  path?: string[];
  /** Seconds a test with `within` may take, and how often it was tried. */
  within?: number;
  tries?: number;
  expected: 'success' | 'fail';
  got: Got;
  passed: boolean;
  seconds: number;
  why: string;
}

/** The fields of one kind of check, those it has. */
function checkFields(check: Check): Partial<TestResultJson> {
  const fields: Partial<TestResultJson> =
    check.kind === 'connect'
      ? { port: check.port, proto: check.proto, serve: check.serve ? `${check.serve.node}:${check.serve.port}` : undefined }
      : check.kind === 'ping'
        ? { size: check.size, df: check.df, count: check.count }
        : check.kind === 'trace'
          ? { path: check.path }
          : check.kind === 'throughput'
            ? { port: check.port, serve: `${check.server.node}:${check.server.port}` }
          : { via: check.via, dev: check.dev, source: check.source, mark: check.mark };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

export function runToJson(run: TestRun): {
  lab: string;
  file: string;
  ok: boolean;
  passed: number;
  failed: number;
  seconds: number;
  drift: number;
  interrupted: boolean;
  results: TestResultJson[];
} {
  const results = run.results.map((r): TestResultJson => {
    const check = r.test.check;
    return {
      number: r.test.number,
      line: r.test.line,
      col: r.test.col,
      test: r.test.label,
      from: r.test.from,
      kind: check.kind,
      address: check.address,
      ...checkFields(check),
      ...(r.test.withinSeconds !== undefined ? { within: r.test.withinSeconds, tries: r.tries } : {}),
      expected: r.test.expect,
      got: r.outcome.got,
      passed: passed(r),
      seconds: Math.round(r.seconds * 1000) / 1000,
      why: passed(r) ? r.outcome.why : failureReason(r.test.expect, r.outcome, r.test.check.kind),
    };
  });
  const failed = results.filter((r) => !r.passed).length;
  return {
    lab: run.lab,
    file: run.file,
    ok: allPassed(run),
    passed: results.length - failed,
    failed,
    seconds: Math.round(run.seconds * 1000) / 1000,
    drift: run.drift,
    interrupted: run.interrupted ?? false,
    results,
  };
}
