// netlab test against a real kernel, inside a sandbox: the seeds' tests pass, false tests fail
// and say which and why, listeners answer TCP and UDP over v4 and v6 through a router, a lab
// that is not applied gives one clear line, and no listener outlives a run, a Ctrl-C or a kill.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

const SEED_000 = join(TOPOLOGIES, 'seed-000-ns1-bridge.yaml');
const SEED_001 = join(TOPOLOGIES, 'seed-001-two-veths.yaml');

let sb: Sandbox;
const scratch = mkdtempSync(join(tmpdir(), 'netlab-labtest-'));

function labFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

/**
 * socat processes in the sandbox's view: those whose mount namespace is the sandbox's (netlab
 * runs in it, so its listeners do too). `pgrep -a socat` alone would also list other work on
 * this machine.
 */
function sandboxSocats(): string[] {
  const mountNs = readlinkSync(`/proc/${sb.pid}/ns/mnt`);
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'socat') continue;
      if (readlinkSync(`/proc/${pid}/ns/mnt`) !== mountNs) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** What the brief asks for, seen from inside the sandbox: `pgrep -a socat`, limited to the sandbox's processes. */
async function leftSocats(): Promise<string[]> {
  const listed = (await sb.run(['pgrep', '-a', 'socat'])).stdout.split('\n').filter((l) => l.trim() !== '');
  const ours = new Set(sandboxSocats().map((l) => l.split(' ')[0]));
  return listed.filter((l) => ours.has(l.split(' ')[0]));
}

async function nothingLeft(): Promise<void> {
  expect(await sb.leftovers()).toEqual([]);
  expect(await leftSocats()).toEqual([]);
}

useSandbox((s) => (sb = s));

describe('the seeds', () => {
  it('seed 000: both pings pass', async () => {
    expect((await sb.netlab('apply', SEED_000)).exitCode).toBe(0);
    const tested = await sb.netlab('test', SEED_000);
    expect(tested.stderr).toBe('');
    expect(tested.exitCode).toBe(0);
    expect(tested.stdout).toMatch(/^pass +36 +ns1: ping 192\.168\.10\.1 +success +success /m);
    expect(tested.stdout).toMatch(/^pass +37 +host: ping 192\.168\.10\.11 +success +success /m);
    expect(tested.stdout).toMatch(/2 passed, 0 failed \(lab seed-000/);
    expect((await sb.netlab('destroy', SEED_000)).exitCode).toBe(0);
    await nothingLeft();
  });

  it('seed 001: the first namespace answers, the second must not, and does not', async () => {
    expect((await sb.netlab('apply', SEED_001)).exitCode).toBe(0);
    const tested = await sb.netlab('test', '--json', SEED_001);
    expect(tested.exitCode).toBe(0);
    const json = JSON.parse(tested.stdout) as { ok: boolean; results: Array<{ test: string; expected: string; got: string; passed: boolean; why: string }> };
    expect(json.ok).toBe(true);
    expect(json.results.map((r) => [r.test, r.expected, r.got, r.passed])).toEqual([
      ['host: ping 172.18.0.10', 'success', 'success', true],
      ['host: ping 172.18.0.20', 'fail', 'fail', true],
    ]);
    expect(json.results[1]!.why).toMatch(/100% packet loss/);
    expect((await sb.netlab('destroy', 'seed-001-two-veths')).exitCode).toBe(0);
    await nothingLeft();
  });
});

describe('tests that are false', () => {
  it('exits 1 and names each false test with its line and why', async () => {
    const file = labFile(
      'false.yaml',
      `name: false-tests
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
  b:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
links:
  - [a:eth0, b:eth0]
tests:
  - {from: a, ping: b}
  - {from: a, ping: 198.51.100.99}
  - {from: a, ping: b, expect: fail}
  - {from: a, connect: "198.51.100.2:47100"}
`,
    );
    expect((await sb.netlab('apply', file)).exitCode).toBe(0);
    const started = Date.now();
    const tested = await sb.netlab('test', file);
    expect(Date.now() - started).toBeLessThan(15_000); // seconds: tests run at once, each bounded by its timeout
    expect(tested.exitCode).toBe(1);
    expect(tested.stdout).toMatch(/^pass +12 +a: ping b \(198\.51\.100\.2\)/m);
    expect(tested.stdout).toMatch(/^FAIL +13 +a: ping 198\.51\.100\.99 +success +fail +[\d.]+ s +100% packet loss/m);
    expect(tested.stdout).toMatch(/^FAIL +14 +a: ping b \(198\.51\.100\.2\) +fail +success +[\d.]+ s +answered .*but the test expects the traffic not to get through/m);
    expect(tested.stdout).toMatch(/^FAIL +15 +a: connect tcp 198\.51\.100\.2:47100 +success +fail +[\d.]+ s +connection refused/m);
    expect(tested.stdout).toMatch(/1 passed, 3 failed/);
    const lines = tested.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/false\.yaml:13:5: test 2 failed: a: ping 198\.51\.100\.99: expected success, got fail: 100% packet loss/),
      expect.stringMatching(/false\.yaml:14:5: test 3 failed: a: ping b \(198\.51\.100\.2\): expected fail, got success: answered/),
      expect.stringMatching(/false\.yaml:15:5: test 4 failed: a: connect tcp 198\.51\.100\.2:47100: expected success, got fail: connection refused/),
    ]);
    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    await nothingLeft();
  });
});

const ROUTED = `name: routed
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.10/24, "2001:db8:1::10/64"]}
    routes:
      - {to: default, via: 198.51.100.1}
      - {to: default, via: "2001:db8:1::1"}
  r:
    sysctls:
      net.ipv4.ip_forward: 1
      net.ipv6.conf.all.forwarding: 1
    interfaces:
      left: {addresses: [198.51.100.1/24, "2001:db8:1::1/64"]}
      right: {addresses: [203.0.113.1/24, "2001:db8:2::1/64"]}
  b:
    interfaces:
      eth0: {addresses: [203.0.113.20/24, "2001:db8:2::20/64"]}
    routes:
      - {to: default, via: 203.0.113.1}
      - {to: default, via: "2001:db8:2::1"}
links:
  - [a:eth0, r:left]
  - [r:right, b:eth0]
tests:
  - {from: a, connect: "203.0.113.20:47201", serve: "b:47201"}
  - {from: a, connect: "203.0.113.20:47202", proto: udp, serve: "b:47202"}
  - {from: a, connect: "[2001:db8:2::20]:47203", serve: "b:47203"}
  - {from: a, connect: "[2001:db8:2::20]:47204", proto: udp, serve: "b:47204"}
  - {from: b, connect: "198.51.100.10:47205", serve: "a:47205"}
  - {from: b, connect: "198.51.100.10:47201", serve: "b:47201", expect: fail}
  - {from: a, connect: "203.0.113.20:47206", expect: fail}
  - {from: a, ping: b}
`;

describe('connect tests with listeners', () => {
  it('TCP and UDP, IPv4 and IPv6, through a router; listeners gone afterwards', async () => {
    const file = labFile('routed.yaml', ROUTED);
    expect((await sb.netlab('apply', file)).exitCode).toBe(0);
    // IPv6 through a router needs the new interfaces' link-local addresses past duplicate address
    // detection, which can take longer than a test's timeout right after apply (docs/test.md).
    // This test is about listeners, so it waits for the path first.
    expect(await sb.ping('a', '2001:db8:2::20', 10)).toBe(true);
    const tested = await sb.netlab('test', '--json', file);
    expect(tested.stderr).toBe('');
    const json = JSON.parse(tested.stdout) as { ok: boolean; seconds: number; results: Array<{ number: number; got: string; passed: boolean; why: string }> };
    expect(json.results.map((r) => [r.number, r.got, r.passed, r.why])).toEqual([
      [1, 'success', true, 'connected, read the reply'],
      [2, 'success', true, 'read the reply'],
      [3, 'success', true, 'connected, read the reply'],
      [4, 'success', true, 'read the reply'],
      [5, 'success', true, 'connected, read the reply'],
      // The listener is in b, the connect goes to a: nothing listens there.
      [6, 'fail', true, 'connection refused'],
      [7, 'fail', true, 'connection refused'],
      [8, 'success', true, expect.stringMatching(/^answered/)],
    ]);
    expect(json.ok).toBe(true);
    expect(tested.exitCode).toBe(0);
    expect(json.seconds).toBeLessThan(8);
    expect(await leftSocats()).toEqual([]);

    // A listener's port already taken: the test fails, saying so, and the run still cleans up.
    const squatter = execa('nsenter', ['--target', String(sb.pid), '--net', '--mount', '--', 'nsenter', '--net=/run/netns/b', 'socat', 'TCP4-LISTEN:47201,reuseaddr', 'STDOUT'], { reject: false });
    try {
      await expect.poll(async () => (await sb.inNs('b', ['ss', '-Hltn', 'sport = :47201'])).stdout.trim(), { timeout: 5000 }).not.toBe('');
      const taken = await sb.netlab('test', file);
      expect(taken.exitCode).toBe(1);
      expect(taken.stderr).toMatch(/routed\.yaml:26:5: test 1 failed: .*listener on b:47201\/tcp exited \(1\): .*Address already in use/);
    } finally {
      squatter.kill('SIGKILL');
      await squatter;
    }
    expect(await leftSocats()).toEqual([]);

    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    await nothingLeft();
  });

  it('runs a kind: host node\'s probes and listener in the root namespace (the sandbox\'s)', async () => {
    const file = labFile(
      'host.yaml',
      `name: hostlab
nodes:
  machine:
    kind: host
    interfaces:
      hv0: {addresses: [198.51.100.1/24]}
  c:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
links:
  - [machine:hv0, c:eth0]
tests:
  - {from: machine, ping: c}
  - {from: c, connect: "198.51.100.1:47401", serve: "machine:47401"}
  - {from: machine, connect: "198.51.100.2:47402", proto: udp, serve: "c:47402"}
`,
    );
    expect((await sb.netlab('apply', file)).exitCode).toBe(0);
    const tested = await sb.netlab('test', '-v', file);
    expect(tested.exitCode).toBe(0);
    expect(tested.stderr).toMatch(/^ {2}\[root\] setpriv --pdeathsig KILL socat -d -d -T 3 TCP4-LISTEN:47401,reuseaddr,fork PIPE$/m);
    expect(tested.stdout).toMatch(/3 passed, 0 failed/);
    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    await nothingLeft();
  });

  it('Ctrl-C stops every listener and exits 130; a killed netlab leaves none either', async () => {
    const file = labFile(
      'slow.yaml',
      `name: slow
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
  b:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
links:
  - [a:eth0, b:eth0]
tests:
  - {from: a, connect: "198.51.100.7:47301", serve: "b:47301", expect: fail}
  - {from: a, connect: "198.51.100.7:47302", proto: udp, serve: "b:47302", expect: fail}
`,
    );
    expect((await sb.netlab('apply', file)).exitCode).toBe(0);
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const run = execa('nsenter', ['--target', String(sb.pid), '--net', '--mount', '--', process.execPath, CLI, 'test', '--timeout', '20', file], {
        reject: false,
        env: { NO_COLOR: '1' },
      });
      const listeners = () => sandboxSocats().filter((l) => /-(LISTEN|RECVFROM):/.test(l));
      await expect.poll(() => listeners().length, { timeout: 10_000 }).toBe(2);
      await expect.poll(() => sandboxSocats().length, { timeout: 5000 }).toBeGreaterThan(2); // the clients too
      run.kill(signal);
      const result = await run;
      if (signal === 'SIGINT') {
        expect(result.exitCode).toBe(130);
        expect(result.stdout).toMatch(/interrupted/);
      }
      // Interrupted, every listener is stopped; killed, the kernel kills what netlab started (parent-death signal).
      await expect.poll(() => sandboxSocats(), { timeout: 3000 }).toEqual([]);
    }
    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    await nothingLeft();
  });
});

describe('a lab that is not applied', () => {
  it('gives one clear line and exit 1, whether nothing is there or a namespace is not the lab’s', async () => {
    const tested = await sb.netlab('test', SEED_000);
    expect(tested.exitCode).toBe(1);
    expect(tested.stdout).toBe('');
    expect(tested.stderr.trim().split('\n')).toEqual([
      `error: lab seed-000 is not applied — run netlab apply ${SEED_000} first (namespace host does not exist)`,
    ]);

    await sb.ok(['ip', 'netns', 'add', 'host']);
    await sb.ok(['ip', 'netns', 'add', 'ns1']);
    const foreign = await sb.netlab('test', SEED_000);
    expect(foreign.exitCode).toBe(1);
    expect(foreign.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: lab seed-000 is not applied — run netlab apply .* first \(namespace host exists but is not marked as the lab's/)]);
    await sb.ok(['ip', 'netns', 'del', 'host']);
    await sb.ok(['ip', 'netns', 'del', 'ns1']);
    await nothingLeft();
  });

  it('warns when the applied lab has drifted, then tests it as it is', async () => {
    expect((await sb.netlab('apply', SEED_000)).exitCode).toBe(0);
    await sb.ok(['nsenter', '--net=/run/netns/ns1', 'ip', 'addr', 'del', '192.168.10.11/24', 'dev', 'eth0']);
    const tested = await sb.netlab('test', SEED_000);
    expect(tested.exitCode).toBe(1);
    const [first, ...rest] = tested.stderr.trim().split('\n');
    expect(first).toMatch(/^warning: lab seed-000 has drifted from .*: apply would make \d+ change\(s\) on ns1/);
    expect(rest).toEqual([expect.stringMatching(/seed-000-ns1-bridge\.yaml:3\d:5: test 1 failed: ns1: ping 192\.168\.10\.1: expected success, got fail/), expect.stringMatching(/test 2 failed: host: ping 192\.168\.10\.11/)]);
    expect((await sb.netlab('destroy', SEED_000)).exitCode).toBe(0);
    await nothingLeft();
  });
});
