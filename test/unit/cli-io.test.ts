// Reading a lab the way the CLI does (stdin, ${NAME} variables, merge keys, x- keys), every error
// in one run, and the CLI's pure parts: colour, option values, exit codes of exec, JSON documents.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { loadLab, parseLab } from '../../src/config/load.js';
import { substituteText } from '../../src/config/variables.js';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { colorLevel } from '../../src/cli/color.js';
import { collectVar, outputFormat, positiveInteger, seconds } from '../../src/cli/options.js';
import { commandProblem, signalExitCode } from '../../src/cli/commands/exec.js';
import { printDocument } from '../../src/cli/output.js';
import { rerunCommand } from '../../src/cli/report.js';

const shown = (text: string, vars: Record<string, string> = {}, env: Record<string, string> = {}) =>
  parseLab(text, 'lab.yaml', { vars, env }).diagnostics.map(formatDiagnostic);

describe('stdin', () => {
  it('reads - from the stream given, and names it <stdin> in diagnostics', async () => {
    const loaded = await loadLab('-', { stdin: Readable.from([Buffer.from('name: x\nnodes:\n  a: {kind: docker}\n')]) });
    expect(loaded.diagnostics.map(formatDiagnostic)).toEqual([expect.stringMatching(/^<stdin>:3:13: error: nodes\.a\.kind cannot be "docker"/)]);
    const ok = await loadLab('-', { stdin: Readable.from(['name: x\nnodes: {a: {}}\n']) });
    expect(ok.spec?.name).toBe('x');
  });
});

describe('the command that runs a stopped run again', () => {
  it('keeps the --node flags, and reads a lab from stdin again from -', async () => {
    expect(rerunCommand('apply', ['a', 'b'], 'lab.yaml')).toBe('netlab apply --node a --node b lab.yaml');
    expect(rerunCommand('destroy', undefined, 'my-lab')).toBe('netlab destroy my-lab');
    // apply names the lab it read by the loader's name for it, which is no argument a shell can pass.
    const { file } = await loadLab('-', { stdin: Readable.from(['name: x\nnodes: {a: {}}\n']) });
    expect(rerunCommand('apply', undefined, file)).toBe('netlab apply -');
  });
});

describe('${NAME} variables', () => {
  const lab = (pid: string) => `name: x\nnodes:\n  app:\n    kind: attach\n    pid: ${pid}\n`;

  it('substitutes from --var before the environment, typed as if written there', () => {
    const loaded = parseLab(lab('${APP_PID}'), 'lab.yaml', { vars: { APP_PID: '12' }, env: { APP_PID: '99' } });
    expect(loaded.spec?.nodes.app?.pid).toBe(12);
    expect(loaded.variables).toEqual(['APP_PID']);
    expect(parseLab(lab('${APP_PID}'), 'lab.yaml', { env: { APP_PID: '99' } }).spec?.nodes.app?.pid).toBe(99);
  });

  it('takes the default when the variable is unset or empty', () => {
    expect(parseLab(lab('${APP_PID:-7}'), 'lab.yaml', {}).spec?.nodes.app?.pid).toBe(7);
    expect(parseLab(lab('${APP_PID:-7}'), 'lab.yaml', { env: { APP_PID: '' } }).spec?.nodes.app?.pid).toBe(7);
  });

  it('reports an undefined variable at its line:col, and how to give it', () => {
    expect(shown(lab('${APP_PID}'))).toEqual([
      'lab.yaml:5:10: error: variable APP_PID is not defined — set it in the environment (APP_PID=... netlab ...), pass --var APP_PID=VALUE, or write ${APP_PID:-default}',
    ]);
    expect(shown('name: x\nnodes:\n  a: {interfaces: {eth0: {addresses: ["10.0.0.1/24", "${NET}.1/24"]}}}\n')[0]).toMatch(/^lab\.yaml:3:55: error: variable NET is not defined/);
  });

  it('substitutes values only: keys, quoted text kept a string, $${ for a literal ${', () => {
    const loaded = parseLab('name: x\ndescription: "${N}"\nnodes:\n  ${K}: {run: ["echo $${HOME}"]}\n', 'lab.yaml', { env: { N: '5', K: 'b' } });
    expect(loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([expect.stringMatching(/node name|\$\{K\}/)]);
    const ok = parseLab('name: x\ndescription: "${N}"\nnodes:\n  a: {run: ["echo $${HOME}"]}\n', 'lab.yaml', { env: { N: '5' } });
    expect(ok.spec?.description).toBe('5');
    expect(ok.spec?.nodes.a?.run).toEqual(['echo ${HOME}']);
  });

  it('refuses a reference it does not know, rather than pass it on', () => {
    expect(substituteText('a ${X:?no} b', {}).problems.map((p) => p.message)).toEqual(['"${X:?no}" is not a variable reference netlab knows']);
    expect(substituteText('$HOME and $1 stay', {}).text).toBe('$HOME and $1 stay');
  });
});

describe('reuse: merge keys and x- keys', () => {
  it('merges <<: *defaults and ignores top-level x- keys', () => {
    const loaded = parseLab(
      ['name: x', 'x-node: &node', '  interfaces: {eth0: {mtu: 1400}}', 'nodes:', '  a: {<<: *node}', '  b:', '    <<: *node', 'links: [[a:eth0, b:eth0]]'].join('\n'),
      'lab.yaml',
    );
    expect(loaded.diagnostics).toEqual([]);
    expect(loaded.spec?.nodes.b?.interfaces?.eth0?.mtu).toBe(1400);
  });

  it('still rejects other unknown top-level keys', () => {
    expect(shown('name: x\nnodes: {a: {}}\ny-thing: 1\n')[0]).toMatch(/unknown key "y-thing" at the top level/);
  });
});

describe('every error in one run', () => {
  it('shows the schema errors and the semantic errors of the rest: 3 + 4', () => {
    const text = [
      'name: Bad Lab', // schema: the name's pattern
      'nodes:',
      '  a:',
      '    interfaces:',
      '      eth0: {mtu: big, addresses: [10.0.0.1]}', // schema: mtu; semantic: no prefix length
      '    colour: red', // schema: unknown key
      '  b:',
      '    routes: [{to: 10.9.0.0/16, via: 10.1.1.1}]', // semantic: gateway on no subnet
      '  c: {interfaces: {eth1: {addresses: [10.0.0.2/24]}}}', // semantic: made by no link
      'links:',
      '  - [a:eth0, zz:eth0]', // semantic: no node zz
      '  - [b:eth0, c:eth0]',
    ].join('\n');
    const all = shown(text);
    expect(all.map((line) => line.split(': error: ')[0])).toEqual([
      'lab.yaml:1:7',
      'lab.yaml:5:19',
      'lab.yaml:5:36',
      'lab.yaml:6:5',
      'lab.yaml:8:37',
      'lab.yaml:9:20',
      'lab.yaml:11:14',
    ]);
    expect(all[2]).toMatch(/address 10\.0\.0\.1 has no prefix length/);
    expect(all[6]).toMatch(/no node zz/);
  });

  it('points at the right list item after a rejected one, and says nothing of the ends of a rejected link', () => {
    const all = shown('name: x\nnodes: {a: {}, b: {}}\nlinks:\n  - [a:eth0, 5]\n  - [a:eth1, zz:eth0]\n');
    expect(all).toEqual([expect.stringMatching(/^lab\.yaml:4:14: error: links\[0\]\[1\] must be a string/), expect.stringMatching(/^lab\.yaml:5:14: error: link end "zz:eth0": no node zz/)]);
  });
});

describe('colour', () => {
  const level = (env: Record<string, string>, color = true, isTTY = true) => colorLevel({ env, color, isTTY, detected: 3 });
  it('is off with NO_COLOR, --no-color, in a pipe or on a dumb terminal', () => {
    expect(level({ NO_COLOR: '1' })).toBe(0);
    expect(level({}, false)).toBe(0);
    expect(level({ FORCE_COLOR: '1' }, false)).toBe(0);
    expect(level({}, true, false)).toBe(0);
    expect(level({ TERM: 'dumb' })).toBe(0);
  });
  it('is on with FORCE_COLOR, even in a pipe and over NO_COLOR, at the level asked', () => {
    expect(level({ FORCE_COLOR: '1', NO_COLOR: '1' }, true, false)).toBe(1);
    expect(level({ FORCE_COLOR: '' }, true, false)).toBe(1);
    expect(level({ FORCE_COLOR: '3' }, true, false)).toBe(3);
    expect(level({ FORCE_COLOR: '0' })).toBe(0);
    expect(level({})).toBe(3);
  });
});

describe('option values', () => {
  it('refuses a bad value as a usage error', () => {
    for (const bad of ['0', '-1', '1.5', 'abc', '']) expect(() => positiveInteger(bad), bad).toThrow(InvalidArgumentError);
    expect(positiveInteger('8')).toBe('8');
    for (const bad of ['abc', '-1', '']) expect(() => seconds(bad), bad).toThrow(InvalidArgumentError);
    expect(seconds('0.5')).toBe('0.5');
    expect(() => collectVar('1X=2')).toThrow(InvalidArgumentError);
    expect(collectVar('B=x=y', collectVar('A=1'))).toEqual({ A: '1', B: 'x=y' });
  });
  it('takes -o json|yaml for --json', () => {
    expect(outputFormat({ output: 'yaml' })).toBe('yaml');
    expect(outputFormat({ json: true })).toBe('json');
    expect(outputFormat({})).toBe('text');
  });
});

describe('exec exit codes', () => {
  it("are the shell's: 128 + the signal's number, 127 not found, 126 not executable", () => {
    expect(signalExitCode('SIGSEGV')).toBe(139);
    expect(signalExitCode('SIGKILL')).toBe(137);
    expect(commandProblem('no-such-command-here', '/usr/bin:/bin')?.code).toBe(127);
    const plain = join(mkdtempSync(join(tmpdir(), 'netlab-exec-')), 'plain');
    writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
    expect(commandProblem(plain, '/usr/bin')?.code).toBe(126);
    expect(commandProblem('/etc', '/usr/bin')?.code).toBe(126);
    expect(commandProblem('sh', '/usr/bin:/bin')).toBeUndefined();
  });
});

describe('JSON documents', () => {
  it('carry format_version first, as JSON or YAML', () => {
    const lines: string[] = [];
    const out = { out: (t: string) => lines.push(t), err: () => undefined };
    printDocument(out, 'json', { lab: 'x' });
    printDocument(out, 'yaml', { lab: 'x' });
    expect(JSON.parse(lines[0]!)).toEqual({ format_version: 1, lab: 'x' });
    expect(lines[1]).toBe('format_version: 1\nlab: x\n');
  });
});
