// netlab test's trace against a real kernel: TTL-limited pings through two routers, each hop
// named by the node that holds the address it answered from; a path that differs fails saying
// the path seen, and a route changed by hand sends the trace the other way.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const scratch = mkdtempSync(join(tmpdir(), 'netlab-labtest-trace-'));

/** a → r1, then r2 or r3 to c; r1 sends c's network by r2. Lines 1-49; the tests from line 50. */
const LAB = `name: tr
nodes:
  a:
    interfaces:
      eth0: {addresses: [192.0.2.10/24, "2001:db8:1::10/64"]}
    routes: [{to: default, via: 192.0.2.1}, {to: "::/0", via: "2001:db8:1::1"}]
  r1:
    sysctls: {net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1}
    interfaces:
      to-a: {addresses: [192.0.2.1/24, "2001:db8:1::1/64"]}
      to-r2: {addresses: [10.0.12.1/24, "2001:db8:12::1/64"]}
      to-r3: {addresses: [10.0.13.1/24]}
    routes:
      - {to: 203.0.113.0/24, via: 10.0.12.2}
      - {to: "2001:db8:25::/64", via: "2001:db8:12::2"}
  r2:
    sysctls: {net.ipv4.ip_forward: 1, net.ipv6.conf.all.forwarding: 1}
    interfaces:
      to-r1: {addresses: [10.0.12.2/24, "2001:db8:12::2/64"]}
      to-c: {addresses: [203.0.113.1/24, "2001:db8:25::2/64"]}
    routes: [{to: default, via: 10.0.12.1}, {to: "::/0", via: "2001:db8:12::1"}]
  r3:
    sysctls: {net.ipv4.ip_forward: 1}
    interfaces:
      to-r1: {addresses: [10.0.13.3/24]}
      to-c: {addresses: [198.51.100.1/24]}
    routes: [{to: default, via: 10.0.13.1}, {to: 203.0.113.0/24, via: 198.51.100.5}]
  c:
    interfaces:
      eth0: {addresses: [203.0.113.5/24, "2001:db8:25::5/64"]}
      eth1: {addresses: [198.51.100.5/24]}
    routes: [{to: default, via: 203.0.113.1}, {to: "::/0", via: "2001:db8:25::2"}]
links:
  - [a:eth0, r1:to-a]
  - [r1:to-r2, r2:to-r1]
  - [r1:to-r3, r3:to-r1]
  - [r2:to-c, c:eth0]
  - [r3:to-c, c:eth1]
x-pad: 38
x-pad2: 39
x-pad3: 40
x-pad4: 41
x-pad5: 42
x-pad6: 43
x-pad7: 44
x-pad8: 45
x-pad9: 46
x-note: the tests follow
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
}

async function testJson(file: string): Promise<{ exitCode: number; results: ResultJson[]; stderr: string }> {
  const r = await sb.netlab('test', '--json', '--timeout', '1', file);
  return { exitCode: r.exitCode, stderr: r.stderr, results: (JSON.parse(r.stdout) as { results: ResultJson[] }).results };
}

describe('trace with path', () => {
  it('passes on the path the routes give, fails on another saying the path seen, and follows a route changed by hand', async () => {
    const passing = labFile('pass.yaml', [
      '{from: a, trace: c, path: [r1, r2, c]}', // 50
      '{from: a, trace: "2001:db8:25::5", path: [r1, r2, c]}', // 51
      '{from: a, trace: r1, path: [r1]}', // 52: a's neighbour answers itself
      '{from: a, trace: c, path: [r1, r3, c], expect: fail}', // 53
    ]);
    const failing = labFile('fail.yaml', [
      '{from: a, trace: c, path: [r1, r3, c]}', // 50: r1 sends it by r2
      '{from: a, trace: 198.51.100.99, path: [r1, r3]}', // 51: r1 has no route there
      '{from: a, trace: c, path: [r1, r2, c], expect: fail}', // 52
    ]);
    const applied = await sb.netlab('apply', passing);
    expect(applied.exitCode, applied.stderr).toBe(0);

    const passed = await testJson(passing);
    expect(passed.results.map((r) => [r.number, r.passed, r.why])).toEqual([
      [1, true, 'path r1 → r2 → c'],
      [2, true, 'path r1 → r2 → c'],
      [3, true, 'path r1'],
      [4, true, 'path r1 → r2 → c, not r1 → r3 → c: hop 2 is r2, not r3'],
    ]);
    expect(passed.exitCode).toBe(0);

    const failed = await sb.netlab('test', '--timeout', '1', failing);
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/0 passed, 3 failed/);
    expect(failed.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/fail\.yaml:50:5: test 1 failed: a: trace c \(203\.0\.113\.5\), path r1 → r3 → c: expected success, got fail: path r1 → r2 → c, not r1 → r3 → c: hop 2 is r2, not r3$/),
      expect.stringMatching(/fail\.yaml:51:5: test 2 failed: a: trace 198\.51\.100\.99, path r1 → r3: expected success, got fail: path r1 \(r1 says destination net unreachable\), not r1 → r3$/),
      expect.stringMatching(/fail\.yaml:52:5: test 3 failed: a: trace c \(203\.0\.113\.5\), path r1 → r2 → c: expected fail, got success: path r1 → r2 → c, but the test expects another path$/),
    ]);

    // The route changed by hand: r1 now sends c's network by r3, and the trace follows it.
    expect((await sb.inNs('r1', ['ip', 'route', 'replace', '203.0.113.0/24', 'via', '10.0.13.3'])).exitCode).toBe(0);
    const moved = await testJson(failing);
    expect(moved.results.map((r) => [r.number, r.passed, r.why])).toEqual([
      [1, true, 'path r1 → r3 → c'],
      [2, false, 'path r1 (r1 says destination net unreachable), not r1 → r3'],
      [3, true, 'path r1 → r3 → c, not r1 → r2 → c: hop 2 is r3, not r2'],
    ]);
    expect(moved.stderr).toMatch(/warning: lab tr has drifted .* on r1/);

    expect((await sb.netlab('destroy', passing)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });
});
