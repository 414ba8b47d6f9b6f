// netlab test's newer kinds against a real kernel, each where it passes and where it must fail:
// ping size with don't-fragment through a router to a link of MTU 1400, counts with loss and rtt
// bounds, what `ip route get` chooses (with source and mark, through the lab's rules and tables), and
// `within`, which waits for state that settles.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const scratch = mkdtempSync(join(tmpdir(), 'netlab-labtest-kinds-'));

/** The lab, lines 1-24; each file adds its own tests from line 25 on. */
const LAB = `name: kinds
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.10/24, 198.51.100.11/24]}
    routes: [{to: default, via: 198.51.100.1}, {to: default, via: 198.51.100.254, dev: eth0, table: 100}, {to: default, via: 198.51.100.253, dev: eth0, table: 101}]
    rules: [{priority: 100, fwmark: 7, table: 100}, {priority: 101, from: 198.51.100.11, table: 101}]
  r:
    sysctls:
      net.ipv4.ip_forward: 1
    interfaces:
      left: {addresses: [198.51.100.1/24]}
      right: {addresses: [203.0.113.1/24], mtu: 1400}
  b:
    interfaces:
      eth0: {addresses: [203.0.113.20/24], mtu: 1400}
    routes:
      - {to: default, via: 203.0.113.1}
links:
  - [a:eth0, r:left]
  - [r:right, b:eth0]
x-note: the tests follow
x-pad: line 23
x-pad2: line 24
tests:
`;

function labFile(name: string, tests: string[]): string {
  const path = join(scratch, name);
  writeFileSync(path, `${LAB}${tests.map((t) => `  - ${t}\n`).join('')}`);
  return path;
}

interface ResultJson {
  number: number;
  passed: boolean;
  got: string;
  why: string;
  tries?: number;
}

async function testJson(file: string, ...args: string[]): Promise<{ exitCode: number; results: ResultJson[]; stderr: string }> {
  const r = await sb.netlab('test', '--json', ...args, file);
  return { exitCode: r.exitCode, stderr: r.stderr, results: (JSON.parse(r.stdout) as { results: ResultJson[] }).results };
}

describe('ping size, df, count, loss and rtt; route; within', () => {
  it('passes where the kernel agrees and fails, one clear line each, where it does not', async () => {
    const passing = labFile('pass.yaml', [
      '{from: a, ping: b, size: 1372, df: true}', // 26: 1400 bytes fit the 1400 link
      '{from: a, ping: b, size: 1472}', // 27: without df, fragmented on the way
      '{from: a, ping: b, count: 10, loss: {max: 0%}, rtt: {max: 50ms}}', // 28
      '{from: a, route: 203.0.113.5, via: 198.51.100.1, dev: eth0}', // 29
      '{from: a, route: b, dev: eth0}', // 30
      '{from: a, route: 203.0.113.5, mark: 7, via: 198.51.100.254, dev: eth0}', // 31: rule fwmark 7
      '{from: a, route: 203.0.113.5, source: 198.51.100.11, via: 198.51.100.253}', // 32: rule from .11
      '{from: a, route: 203.0.113.5, via: 198.51.100.254, expect: fail}', // 33: no mark, main table
    ]);
    const failing = labFile('fail.yaml', [
      '{from: a, ping: b, size: 1472, df: true}', // 26: 1500 bytes do not fit
      '{from: a, ping: 198.51.100.99, count: 5, loss: {max: 20%}}', // 27: nothing answers
      '{from: a, ping: b, count: 5, rtt: {min: 50ms}}', // 28: a veth answers in microseconds
      '{from: a, route: 203.0.113.5, via: 198.51.100.2, dev: eth0}', // 29
      '{from: a, route: 203.0.113.5, mark: 7, via: 198.51.100.1}', // 30: the mark's rule chooses table 100
      '{from: b, route: 198.51.100.10, dev: eth0, expect: fail}', // 31: it is eth0
    ]);
    expect((await sb.netlab('apply', passing)).exitCode).toBe(0);

    const passed = await testJson(passing);
    expect(passed.results.filter((r) => !r.passed)).toEqual([]);
    expect(passed.exitCode).toBe(0);
    expect(passed.results.map((r) => r.why)).toEqual([
      expect.stringMatching(/^answered in /),
      expect.stringMatching(/^answered in /),
      expect.stringMatching(/^loss 0% \(0 of 10\); rtt median [\d.]+ ms( \(avg [\d.]+ ms\))?$/),
      'the kernel chose via 198.51.100.1 dev eth0, source 198.51.100.10',
      'the kernel chose via 198.51.100.1 dev eth0, source 198.51.100.10',
      'the kernel chose via 198.51.100.254 dev eth0, source 198.51.100.10',
      'the kernel chose via 198.51.100.253 dev eth0',
      'the kernel chose via 198.51.100.1 dev eth0, not via 198.51.100.254',
    ]);

    const failed = await sb.netlab('test', '--timeout', '1', failing);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/0 passed, 6 failed/);
    expect(failed.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/fail\.yaml:26:5: test 1 failed: a: ping b \(203\.0\.113\.20\), size 1472 df: expected success, got fail: 100% packet loss \(too big: (198\.51\.100\.1 says )?the path's mtu is 1400\)$/),
      expect.stringMatching(/fail\.yaml:27:5: test 2 failed: a: ping 198\.51\.100\.99, count 5, loss max 20%: expected success, got fail: loss 100% \(5 of 5\), above the max 20%$/),
      expect.stringMatching(/fail\.yaml:28:5: test 3 failed: a: ping b \(203\.0\.113\.20\), count 5, rtt min 50ms: expected success, got fail: rtt median [\d.]+ ms( \(avg [\d.]+ ms\))?, below the min 50 ms$/),
      expect.stringMatching(/fail\.yaml:29:5: test 4 failed: a: route 203\.0\.113\.5 via 198\.51\.100\.2 dev eth0: expected success, got fail: the kernel chose via 198\.51\.100\.1 dev eth0, not via 198\.51\.100\.2 dev eth0$/),
      expect.stringMatching(/fail\.yaml:30:5: test 5 failed: a: route 203\.0\.113\.5 mark 7 via 198\.51\.100\.1: expected success, got fail: the kernel chose via 198\.51\.100\.254 dev eth0, not via 198\.51\.100\.1$/),
      expect.stringMatching(/fail\.yaml:31:5: test 6 failed: b: route 198\.51\.100\.10 dev eth0: expected fail, got success: the kernel chose via 203\.0\.113\.1 dev eth0, source 203\.0\.113\.20, but the test expects the kernel to choose otherwise$/),
    ]);

    expect((await sb.netlab('destroy', passing)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('within: tried again until the state settles; given up, with how often, when the time is up', async () => {
    const file = labFile('within.yaml', [
      '{from: a, ping: 198.51.100.30, within: 10s}', // 26: the address appears 2.5 s after the start
      '{from: a, ping: 198.51.100.30}', // 27: the same, tried once: too early
      '{from: a, ping: 198.51.100.99, within: 2s}', // 28: never answers
    ]);
    expect((await sb.netlab('apply', file)).exitCode).toBe(0);
    const later = sb.inNs('r', ['sh', '-c', 'sleep 2.5 && ip addr add 198.51.100.30/24 dev left']);
    const started = Date.now();
    const tested = await testJson(file, '--timeout', '1');
    expect((await later).exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(tested.exitCode).toBe(1);
    expect(tested.results.map((r) => [r.number, r.got, r.passed])).toEqual([
      [1, 'success', true],
      [2, 'fail', false],
      [3, 'fail', false],
    ]);
    expect(tested.results[0]!.tries).toBeGreaterThan(1);
    expect(tested.results[1]!.tries).toBeUndefined();
    expect(tested.results[1]!.why).toBe('100% packet loss');
    expect(tested.results[2]!.why).toMatch(/^100% packet loss \(still after \d+ tries in [\d.]+ s, within 2 s\)$/);
    // For people, the same as one line per failing test.
    const again = await sb.netlab('test', '--timeout', '1', file);
    expect(again.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: lab kinds has drifted .* on r /), // the address added by hand
      expect.stringMatching(/within\.yaml:28:5: test 3 failed: a: ping 198\.51\.100\.99, within 2s: expected success, got fail: 100% packet loss \(still after \d+ tries in [\d.]+ s, within 2 s\)$/),
    ]);
    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });
});
