// kill -9 at any point of apply or destroy leaves a machine from which the next apply converges
// and the next destroy removes everything; Ctrl-C stops between commands and says where; two
// runs on one lab never interleave.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Sandbox } from '../helpers/sandbox.js';

const CONTAINERS = 12;

/** A bridge with a dozen containers, NAT and a run: command: enough steps to be killed inside. */
function labText(): string {
  const lines = ['name: crash', 'nodes:', '  hub:', '    sysctls: {net.ipv4.ip_forward: 1}', '    bridges: {br0: {addresses: [198.51.100.1/24]}}'];
  lines.push('    nat: [{type: masquerade, source: 198.51.100.0/24, out: "!br0"}]', '    run: ["exec sleep 5001"]');
  for (let i = 1; i <= CONTAINERS; i++) {
    lines.push(`  c${i}:`, `    interfaces: {eth0: {addresses: [198.51.100.${i + 10}/24]}}`, '    routes: [{to: default, via: 198.51.100.1}]', '    dns: {nameservers: [198.51.100.1]}');
  }
  lines.push('links:');
  for (let i = 1; i <= CONTAINERS; i++) lines.push(`  - [c${i}:eth0, hub:br0]`);
  return `${lines.join('\n')}\n`;
}

let sb: Sandbox;
let file: string;
beforeAll(async () => {
  sb = await Sandbox.create();
  file = join(mkdtempSync(join(tmpdir(), 'netlab-crash-')), 'crash.yaml');
  writeFileSync(file, labText());
});
afterAll(async () => {
  await sb?.dispose();
});
afterEach(async () => {
  await sb.reset();
});

/** Starts netlab, and kill -9 after `ms` milliseconds (if it is still running). */
async function killedAfter(ms: number, ...args: string[]): Promise<void> {
  const seconds = (ms / 1000).toFixed(3);
  await sb.run(['sh', '-c', `"$0" "$@" >/dev/null 2>&1 & pid=$!; sleep ${seconds}; kill -9 $pid 2>/dev/null; wait $pid; true`, process.execPath, CLI, ...args]);
}

/** Every kill point tried, for the closing count. */
const KILL_DELAYS_MS = [0, 25, 50, 75, 100, 150, 200, 300, 450, 700];

describe('kill -9', () => {
  for (const delay of KILL_DELAYS_MS) {
    it(`apply killed after ${delay} ms: apply converges; destroy killed after ${delay} ms: destroy removes everything`, async () => {
      await killedAfter(delay, 'apply', file);
      await sb.netlabOk('apply', file);
      expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
      expect(await sb.ping(`c${CONTAINERS}`, '198.51.100.1')).toBe(true);
      expect((await sb.run(['pgrep', '-c', '-f', '^sleep 5001'])).stdout.trim()).toBe('1');

      await killedAfter(delay, 'destroy', 'crash');
      await sb.netlabOk('destroy', 'crash');
      expect(await sb.leftovers()).toEqual([]);
      expect((await sb.run(['pgrep', '-f', '^sleep 5001'])).stdout.trim()).toBe('');
    });
  }
});

describe('Ctrl-C', () => {
  it('stops between commands, says what was done and what was not, and the next apply goes on', async () => {
    const outcomes: number[] = [];
    for (const delay of [0, 50, 100]) {
      // Once the record is written the run is executing: the interrupt lands among its commands.
      const waitForRun = 'for i in $(seq 1000); do [ -f /run/netlab/crash/record.json ] && break; sleep 0.005; done';
      const r = await sb.run(['sh', '-c', `"$0" "$@" & pid=$!; ${waitForRun}; sleep ${delay / 1000}; kill -INT $pid; wait $pid`, process.execPath, CLI, 'apply', file]);
      outcomes.push(r.exitCode);
      if (r.exitCode === 130) expect(r.stderr).toMatch(/interrupted: \d+ change\(s\) done, \d+ not started/);
      else expect(r.exitCode, r.stderr).toBe(0);
      await sb.netlabOk('apply', file);
      expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
      await sb.netlabOk('destroy', 'crash');
    }
    expect(outcomes).toContain(130);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('two runs at once', () => {
  it('never interleave: one lab, correct, and the second says whom it waited for', async () => {
    // The first run is slowed (each ip a second late) and the second starts once the first has
    // printed its plan, which it makes under the lock: on a busy machine two runs started together
    // could otherwise follow each other unawares.
    const slowIp = 'mkdir -p /run/slow && printf "#!/bin/sh\\nsleep 1\\nexec %s \\"\\$@\\"\\n" "$(command -v ip)" >/run/slow/ip && chmod +x /run/slow/ip';
    const held = 'for i in $(seq 3000); do [ -s /run/one.out ] && break; sleep 0.01; done';
    const both = await sb.run(['sh', '-c', `${slowIp}; PATH=/run/slow:$PATH "$0" "$@" >/run/one.out 2>&1 & a=$!; ${held}; "$0" "$@" >/run/two.out 2>&1 & b=$!; wait $a; ea=$?; wait $b; eb=$?; echo $ea $eb; cat /run/one.out /run/two.out; rm -rf /run/slow /run/one.out /run/two.out`, process.execPath, CLI, 'apply', file]);
    const [codes, ...output] = both.stdout.split('\n');
    expect(codes).toBe('0 0');
    const text = output.join('\n');
    expect(text).toMatch(/waiting: lab-crash is held by pid \d+ \(apply .*crash\.yaml\)/);
    expect(text).toMatch(/no changes, nothing written/);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    await sb.netlabOk('destroy', 'crash');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('gives up after --wait seconds, naming the holder', async () => {
    // A live holder: a process that keeps the lock file flocked, its name written inside.
    const holder = `(flock -n 9 && echo '{"pid": '$$', "command": "apply someone-else.yaml", "since": "then"}' >&9 && exec sleep 600) 9>>/run/netlab/lab-crash.lock >/dev/null 2>&1 &`;
    await sb.ok(['sh', '-c', `mkdir -p /run/netlab && ${holder} for i in $(seq 200); do [ -s /run/netlab/lab-crash.lock ] && break; sleep 0.01; done`]);
    const r = await sb.netlab('apply', '--wait', '0.3', file);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/another netlab run holds the lock: lab-crash is held by pid \d+ \(apply someone-else\.yaml\)/);
    expect((await sb.ok(['ls', '/run/netns'])).trim()).toBe('');
    await sb.run(['pkill', '-f', '^sleep 600']);
    await sb.ok(['rm', '-f', '/run/netlab/lab-crash.lock']);
  });
});
