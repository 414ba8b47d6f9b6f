// netlab test, the parts that need no kernel: target resolution, what probe output means, the
// expectation logic, the table and JSON, the argv of every probe, and the run's scheduling and
// listener cleanup against a fake runner.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/config/load.js';
import type { LabSpec } from '../../src/config/spec.js';
import type { RunResult, Runner } from '../../src/kernel/runner.js';
import { driftWarning, notAppliedReason } from '../../src/labtest/applied.js';
import { classifyConnect, classifyPing, failureReason, passes } from '../../src/labtest/outcome.js';
import { allPassed, renderFailures, renderTable, runToJson, type TestRun } from '../../src/labtest/render.js';
import { firstAddress, independentGroups, isIp, parseConnect, resolveTests, testPhases, type LabTest } from '../../src/labtest/resolve.js';
import { clientArgv, listenerArgv, pingArgv, runTests, type ProcessStarter, type StartedProcess } from '../../src/labtest/run.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState } from '../../src/model/types.js';
import type { Change } from '../../src/plan/change.js';

const plain = new Chalk({ level: 0 });

const LAB = `name: demo
nodes:
  host:
    bridges:
      br0: {addresses: [198.51.100.1/24]}
  c0:
    interfaces:
      eth1: {}
      eth0: {addresses: ["2001:DB8::0010/64", 198.51.100.10/24]}
  c1:
    interfaces:
      eth0: {addresses: [198.51.100.20/24]}
links:
  - [c0:eth0, host:br0]
  - [c1:eth0, host:br0]
  - [c0:eth1, c1:eth1]
tests:
  - {from: c0, ping: c1}
  - {from: c1, ping: host}
  - {from: c1, ping: c0, expect: fail}
  - {from: c0, ping: "2001:db8:0::1"}
  - {from: c1, connect: "198.51.100.10:8080", serve: "c0:8080"}
  - {from: c1, connect: "[2001:db8::10]:53", proto: udp, serve: "c0:53", expect: fail}
  - {from: c0, connect: "198.51.100.20:22"}
  - {from: host, connect: "198.51.100.10:8080", serve: "c0:8080"}
`;

function load(text: string): { spec: LabSpec; tests: LabTest[] } {
  const loaded = parseLab(text, 'lab.yaml');
  expect(loaded.diagnostics).toEqual([]);
  return { spec: loaded.spec!, tests: resolveTests(loaded.spec!, loaded.locate) };
}

describe('target resolution', () => {
  it('a node name means its first address: first interface with one in file order, else its first bridge address', () => {
    const { spec } = load(LAB);
    expect(firstAddress(spec.nodes.c0!)).toBe('2001:db8::10'); // eth1 has none; eth0's first is IPv6, canonical
    expect(firstAddress(spec.nodes.c1!)).toBe('198.51.100.20');
    expect(firstAddress(spec.nodes.host!)).toBe('198.51.100.1'); // bridge only
    expect(firstAddress({ interfaces: { e: {} } })).toBeUndefined();
    expect(firstAddress({ interfaces: { e: { addresses: ['203.0.113.5/24'] } }, bridges: { b: { addresses: ['198.51.100.1/24'] } } })).toBe('203.0.113.5');
  });

  it('resolves every test in file order, with its line, namespace, target and defaults', () => {
    const { tests } = load(LAB);
    expect(tests.map((t) => [t.number, t.line, t.col, t.label, t.expect])).toEqual([
      [1, 18, 5, 'c0: ping c1 (198.51.100.20)', 'success'],
      [2, 19, 5, 'c1: ping host (198.51.100.1)', 'success'],
      [3, 20, 5, 'c1: ping c0 (2001:db8::10)', 'fail'],
      [4, 21, 5, 'c0: ping 2001:db8:0::1 (2001:db8::1)', 'success'],
      [5, 22, 5, 'c1: connect tcp 198.51.100.10:8080, serve c0:8080', 'success'],
      [6, 23, 5, 'c1: connect udp [2001:db8::10]:53, serve c0:53', 'fail'],
      [7, 24, 5, 'c0: connect tcp 198.51.100.20:22', 'success'],
      [8, 25, 5, 'host: connect tcp 198.51.100.10:8080, serve c0:8080', 'success'],
    ]);
    expect(tests[2]!.check).toEqual({ kind: 'ping', address: '2001:db8::10', family: 6 });
    expect(tests[5]!.check).toEqual({ kind: 'connect', proto: 'udp', address: '2001:db8::10', family: 6, port: 53, serve: { node: 'c0', netns: 'c0', port: 53 } });
    expect(tests[6]!.check).toEqual({ kind: 'connect', proto: 'tcp', address: '198.51.100.20', family: 4, port: 22, serve: undefined });
  });

  it('puts the prefix on namespaces, and runs a kind: host node in the root namespace', () => {
    const spec: LabSpec = {
      name: 'p',
      prefix: 'x-',
      nodes: { a: { interfaces: { e: { addresses: ['198.51.100.1/24'] } } }, h: { kind: 'host' } },
      tests: [{ from: 'h', connect: '198.51.100.1:80', serve: 'a:80' }],
    };
    const [test] = resolveTests(spec);
    expect(test!.fromNetns).toBeNull();
    expect(test!.line).toBe(0);
    expect(test!.check).toMatchObject({ serve: { netns: 'x-a' } });
  });

  it('parses ADDR:PORT and [V6]:PORT, as validation does', () => {
    expect(parseConnect('198.51.100.100:1234')).toEqual({ address: '198.51.100.100', port: 1234 });
    expect(parseConnect('[2001:DB8::1]:80')).toEqual({ address: '2001:db8::1', port: 80 });
    expect(parseConnect('2001:db8::1:80')).toBeUndefined();
    expect(parseConnect('198.51.100.1')).toBeUndefined();
    expect(parseConnect('198.51.100.1:0')).toBeUndefined();
    expect(parseConnect('198.51.100.1:70000')).toBeUndefined();
    // Not a four-part address: a node could be called that, and validation does not take it as an IP.
    expect(isIp('10')).toBe(false);
    expect(isIp('10.1')).toBe(false);
    expect(isIp('fe80::1%eth0')).toBe(false);
    expect(isIp('198.51.100.1')).toBe(true);
  });

  it('runs tests at once unless they share a listener', () => {
    const { tests } = load(LAB);
    expect(independentGroups(tests).map((g) => g.map((t) => t.number))).toEqual([[1], [2], [3], [4], [5, 8], [6], [7]]);
  });

  it('runs throughput tests last, one after another, with nothing beside them to fill the link or be measured in its queue', () => {
    const measured = `${LAB}  - {from: c0, throughput: "c1:5201", min: 1mbit}
  - {from: c0, ping: c1, count: 20, rtt: {max: 80ms}}
  - {from: c1, throughput: "c0:5201", max: 1gbit}
`;
    const numbers = (phases: LabTest[][][]) => phases.map((phase) => phase.map((g) => g.map((t) => t.number)));
    expect(numbers(testPhases(load(measured).tests))).toEqual([
      [[1], [2], [3], [4], [5, 8], [6], [7], [10]],
      [[9, 11]],
    ]);
    expect(numbers(testPhases(load(LAB).tests))).toEqual([[[1], [2], [3], [4], [5, 8], [6], [7]]]);
    expect(testPhases([])).toEqual([]);
  });
});

const ok = (stdout: string, stderr = ''): RunResult => ({ exitCode: 0, stdout, stderr });
const exit = (exitCode: number, stdout: string, stderr = ''): RunResult => ({ exitCode, stdout, stderr });

describe('what ping says', () => {
  it('an answer is success', () => {
    const out = 'PING 198.51.100.2 (198.51.100.2) 56(84) bytes of data.\n64 bytes from 198.51.100.2: icmp_seq=1 ttl=64 time=0.048 ms\n\n--- 198.51.100.2 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n';
    expect(classifyPing(ok(out), 2)).toEqual({ got: 'success', why: 'answered in 0.048 ms' });
  });

  it('no answer within the deadline is fail, with the loss', () => {
    const out = 'PING 198.51.100.9 (198.51.100.9) 56(84) bytes of data.\n\n--- 198.51.100.9 ping statistics ---\n2 packets transmitted, 0 received, 100% packet loss, time 1014ms\n';
    expect(classifyPing(exit(1, out), 2)).toEqual({ got: 'fail', why: '100% packet loss' });
    const unreachable = 'From 198.51.100.1 icmp_seq=1 Destination Host Unreachable\n\n--- x ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n';
    expect(classifyPing(exit(1, unreachable), 2)).toEqual({ got: 'fail', why: '100% packet loss (destination host unreachable)' });
  });

  it('no route is fail; a ping that cannot run is an error', () => {
    expect(classifyPing(exit(2, '', 'ping: connect: Network is unreachable\n'), 2)).toEqual({ got: 'fail', why: 'network is unreachable' });
    expect(classifyPing(exit(2, '', 'ping: invalid argument: -w\n'), 2)).toEqual({ got: 'error', why: 'ping could not run (exit 2): ping: invalid argument: -w' });
    expect(classifyPing(exit(127, '', 'spawn ping ENOENT'), 2).got).toBe('error');
  });
});

describe('what a socat client says', () => {
  const tcp = { proto: 'tcp' as const, reply: 'netlab-test-1\n', timeoutSeconds: 2 };
  const udp = { proto: 'udp' as const, reply: 'netlab-test-1\n', timeoutSeconds: 2 };

  it('reading the listener reply is success', () => {
    expect(classifyConnect(ok('netlab-test-1\n'), tcp)).toEqual({ got: 'success', why: 'connected, read the reply' });
    expect(classifyConnect(ok('netlab-test-1\n'), udp)).toEqual({ got: 'success', why: 'read the reply' });
  });

  it('refused, timed out and unreachable are fail, said plainly', () => {
    const line = (msg: string) => `2026/01/01 00:00:00 socat[1] E ${msg}\n`;
    expect(classifyConnect(exit(1, '', line('connect(5, AF=2 198.51.100.2:4999, 16): Connection refused')), tcp)).toEqual({ got: 'fail', why: 'connection refused' });
    expect(classifyConnect(exit(1, '', line('read(5, 0x5598a5fec000, 10): Connection refused')), udp)).toEqual({ got: 'fail', why: 'connection refused' });
    expect(classifyConnect(exit(1, '', line('connecting to AF=2 198.51.100.9:4000: Connection timed out')), tcp)).toEqual({ got: 'fail', why: 'timed out after 2 s' });
    expect(classifyConnect(exit(1, '', line('connect(5, AF=10 [2001:db8::2]:4002, 28): Network is unreachable')), tcp)).toEqual({ got: 'fail', why: 'network is unreachable' });
    expect(classifyConnect(exit(1, '', line('connect(5, AF=2 198.51.100.9:80, 16): No route to host')), tcp)).toEqual({ got: 'fail', why: 'no route to host' });
    // UDP has no connection: silence is how a blocked path shows.
    expect(classifyConnect(ok(''), udp)).toEqual({ got: 'fail', why: 'timed out after 2 s' });
  });

  it('something other than the listener answering is an error, whatever the test expects', () => {
    const other = classifyConnect(ok('SSH-2.0-OpenSSH\r\n'), tcp);
    expect(other.got).toBe('error');
    expect(other.why).toMatch(/^reply mismatch: read "SSH-2.0-OpenSSH"/);
    expect(classifyConnect(ok(''), tcp).why).toMatch(/^reply mismatch: connected, but no reply within 2 s/);
    expect(classifyConnect(exit(1, '', '2026/01/01 00:00:00 socat[1] E unknown device/address "TCP9"\n'), tcp).got).toBe('error');
  });

  it('without a listener: a TCP connect that is accepted, or any UDP answer, is success', () => {
    expect(classifyConnect(ok(''), { proto: 'tcp', timeoutSeconds: 2 })).toEqual({ got: 'success', why: 'connected' });
    expect(classifyConnect(ok('x'), { proto: 'udp', timeoutSeconds: 2 })).toEqual({ got: 'success', why: 'answered' });
    expect(classifyConnect(ok(''), { proto: 'udp', timeoutSeconds: 2 })).toEqual({ got: 'fail', why: 'no answer within 2 s' });
  });
});

describe('expectations', () => {
  it('expect: fail passes only when the traffic does not get through; an error never passes', () => {
    const through = { got: 'success' as const, why: 'answered' };
    const blocked = { got: 'fail' as const, why: '100% packet loss' };
    const broken = { got: 'error' as const, why: 'reply mismatch' };
    expect([passes('success', through), passes('success', blocked), passes('success', broken)]).toEqual([true, false, false]);
    expect([passes('fail', through), passes('fail', blocked), passes('fail', broken)]).toEqual([false, true, false]);
    expect(failureReason('fail', through)).toBe('answered, but the test expects the traffic not to get through');
    expect(failureReason('success', blocked)).toBe('100% packet loss');
  });
});

describe('results', () => {
  const { tests } = load(LAB);
  const run: TestRun = {
    lab: 'demo',
    file: 'lab.yaml',
    seconds: 2.5,
    drift: 0,
    results: [
      { test: tests[0]!, outcome: { got: 'success', why: 'answered in 0.05 ms' }, seconds: 0.012 },
      { test: tests[2]!, outcome: { got: 'success', why: 'answered in 0.04 ms' }, seconds: 0.02 },
      { test: tests[4]!, outcome: { got: 'fail', why: 'connection refused' }, seconds: 0.031 },
      { test: tests[5]!, outcome: { got: 'fail', why: 'timed out after 2 s' }, seconds: 2.004 },
    ],
  };

  it('renders a table: result, line, test, expected, got, time, and why for a failure', () => {
    expect(renderTable(run, plain)).toBe(
      [
        'RESULT  LINE  TEST                                               EXPECTED  GOT      TIME    WHY',
        'pass    18    c0: ping c1 (198.51.100.20)                        success   success  0.01 s',
        'FAIL    20    c1: ping c0 (2001:db8::10)                         fail      success  0.02 s  answered in 0.04 ms, but the test expects the traffic not to get through',
        'FAIL    22    c1: connect tcp 198.51.100.10:8080, serve c0:8080  success   fail     0.03 s  connection refused',
        'pass    23    c1: connect udp [2001:db8::10]:53, serve c0:53     fail      fail     2.00 s',
        '',
        '2 passed, 2 failed (lab demo, 2.50 s)',
        '',
      ].join('\n'),
    );
    expect(allPassed(run)).toBe(false);
  });

  it('names each failing test with file:line:col', () => {
    expect(renderFailures(run)).toEqual([
      'lab.yaml:20:5: test 3 failed: c1: ping c0 (2001:db8::10): expected fail, got success: answered in 0.04 ms, but the test expects the traffic not to get through',
      'lab.yaml:22:5: test 5 failed: c1: connect tcp 198.51.100.10:8080, serve c0:8080: expected success, got fail: connection refused',
    ]);
  });

  it('gives tools JSON', () => {
    const json = runToJson(run);
    expect(json).toMatchObject({ lab: 'demo', ok: false, passed: 2, failed: 2, seconds: 2.5, drift: 0, interrupted: false });
    expect(json.results[2]).toEqual({
      number: 5,
      line: 22,
      col: 5,
      test: 'c1: connect tcp 198.51.100.10:8080, serve c0:8080',
      from: 'c1',
      kind: 'connect',
      address: '198.51.100.10',
      port: 8080,
      proto: 'tcp',
      serve: 'c0:8080',
      expected: 'success',
      got: 'fail',
      passed: false,
      seconds: 0.031,
      why: 'connection refused',
    });
    expect(json.results[0]).not.toHaveProperty('port');
  });

  it('an interrupted run never passes', () => {
    expect(allPassed({ ...run, results: [run.results[0]!], interrupted: true })).toBe(false);
    expect(allPassed({ ...run, results: [run.results[0]!] })).toBe(true);
  });
});

describe('whether the lab is applied', () => {
  const { spec } = load(LAB);
  const desired = resolveLab(spec);
  const actualWith = (owner: (node: string) => string | undefined, exists = (_: string) => true): LabState => ({
    lab: 'demo',
    nodes: new Map([...desired.nodes].map(([n, s]) => [n, { ...emptyNode(n, s.netns, exists(n)), owner: owner(n) }])),
  });

  it('applied: every namespace exists and carries the lab mark', () => {
    expect(notAppliedReason(spec, desired, actualWith(() => 'demo'))).toBeUndefined();
  });

  it('names the first namespace that is missing, unmarked or another lab', () => {
    expect(notAppliedReason(spec, desired, actualWith(() => 'demo', (n) => n !== 'c1'))).toBe('namespace c1 does not exist');
    expect(notAppliedReason(spec, desired, actualWith((n) => (n === 'c0' ? undefined : 'demo')))).toMatch(/^namespace c0 exists but is not marked as the lab's/);
    expect(notAppliedReason(spec, desired, actualWith((n) => (n === 'host' ? 'other' : 'demo')))).toBe('namespace host belongs to lab other');
    expect(notAppliedReason(spec, desired, { lab: 'demo', nodes: new Map() })).toBe('namespace c0 does not exist');
    const conflict = { node: 'host', netns: 'host', reason: 'veth nl-host0 already exists in node host and is not the lab\'s' };
    expect(notAppliedReason(spec, desired, actualWith(() => 'demo'), true, [conflict])).toBe(conflict.reason);
  });

  it('a lab of host nodes only is applied when netlab has its record', () => {
    const hostOnly: LabSpec = { name: 'h', nodes: { m: { kind: 'host' } } };
    const want = resolveLab(hostOnly);
    const have: LabState = { lab: 'h', nodes: new Map([['m', { ...emptyNode('m', null, true, 'host') }]]) };
    expect(notAppliedReason(hostOnly, want, have, false)).toBe('netlab has no record of applying it');
    expect(notAppliedReason(hostOnly, want, have, true)).toBeUndefined();
  });

  it('warns of drift with the nodes that differ', () => {
    const change = (node: string) => ({ id: node, action: 'create', node, netns: node, reason: '', kind: 'address', dev: 'eth0', cidr: '198.51.100.10/24' }) as Change;
    expect(driftWarning('demo', 'lab.yaml', { lab: 'demo', changes: [], conflicts: [] })).toBeUndefined();
    expect(driftWarning('demo', 'lab.yaml', { lab: 'demo', changes: [change('c1'), change('c0'), change('c1')], conflicts: [] })).toBe(
      'warning: lab demo has drifted from lab.yaml: apply would make 3 change(s) on c0, c1 (see netlab plan lab.yaml); testing the lab as it is',
    );
  });
});

describe('probe argv: no shell, only validated values', () => {
  const { tests } = load(LAB);

  it('ping: one echo, a deadline, the family, under a parent-death signal', () => {
    expect(pingArgv({ kind: 'ping', address: '2001:db8::10', family: 6 }, 3)).toEqual(['setpriv', '--pdeathsig', 'KILL', 'ping', '-n', '-6', '-c', '1', '-w', '3', '2001:db8::10']);
  });

  it('listener: a socat echo (no program, no shell) under a parent-death signal, bound to the family', () => {
    const check = tests[5]!.check;
    if (check.kind !== 'connect') throw new Error('connect expected');
    expect(listenerArgv(check, check.serve!, 2)).toEqual(['setpriv', '--pdeathsig', 'KILL', 'socat', '-d', '-d', '-T', '2', 'UDP6-RECVFROM:53,fork', 'PIPE']);
    const tcp = tests[4]!.check;
    if (tcp.kind !== 'connect') throw new Error('connect expected');
    expect(listenerArgv(tcp, tcp.serve!, 2)[8]).toBe('TCP4-LISTEN:8080,reuseaddr,fork');
  });

  it('client: reads exactly the reply, brackets IPv6', () => {
    const udp = tests[5]!.check;
    const tcp = tests[4]!.check;
    const bare = tests[6]!.check;
    if (udp.kind !== 'connect' || tcp.kind !== 'connect' || bare.kind !== 'connect') throw new Error('connect expected');
    expect(clientArgv(udp, 'netlab-test-ab12\n', 1)).toEqual(['setpriv', '--pdeathsig', 'KILL', 'socat', '-T', '1', '-t', '1', '-', 'UDP6:[2001:db8::10]:53,readbytes=17']);
    expect(clientArgv(tcp, 'netlab-test-ab12\n', 2)).toEqual(['setpriv', '--pdeathsig', 'KILL', 'socat', '-T', '2', '-t', '2', '-', 'TCP4:198.51.100.10:8080,connect-timeout=2,readbytes=17']);
    expect(clientArgv(bare, undefined, 2)).toEqual(['setpriv', '--pdeathsig', 'KILL', 'socat', '-T', '2', '-t', '0.5', '-', 'TCP4:198.51.100.20:22,connect-timeout=2']);
  });
});

// ── the run, against a fake kernel

interface FakeProcess extends StartedProcess {
  argv: readonly string[];
  killed: boolean;
}

function fakeStarter(behaviour: (argv: readonly string[]) => 'listen' | 'die' | 'hang'): { starter: ProcessStarter; started: FakeProcess[] } {
  const started: FakeProcess[] = [];
  const starter: ProcessStarter = {
    start(argv) {
      let settle!: (r: RunResult) => void;
      const exited = new Promise<RunResult>((resolve) => (settle = resolve));
      const listeners: Array<(t: string) => void> = [];
      const mode = behaviour(argv);
      const proc: FakeProcess = {
        argv,
        killed: false,
        onStderr: (l) => listeners.push(l),
        exited,
        kill: () => {
          proc.killed = true;
          settle({ exitCode: 143, stdout: '', stderr: '' });
        },
      };
      setTimeout(() => {
        if (mode === 'listen') for (const l of listeners) l('2026/01/01 00:00:00 socat[9] N listening on AF=2 0.0.0.0:8080\n');
        if (mode === 'die') settle({ exitCode: 1, stdout: '', stderr: '2026/01/01 00:00:00 socat[9] E bind(5, {AF=2 0.0.0.0:8080}, 16): Address already in use\n' });
      }, 5);
      started.push(proc);
      return proc;
    },
  };
  return { starter, started };
}

function fakeRunner(answer: (argv: readonly string[]) => RunResult | Promise<RunResult>): Runner & { calls: string[][]; inputs: Array<string | undefined> } {
  const calls: string[][] = [];
  const inputs: Array<string | undefined> = [];
  return {
    calls,
    inputs,
    async run(argv, input) {
      calls.push([...argv]);
      inputs.push(input);
      return answer(argv);
    },
  };
}

describe('running the tests', () => {
  const { tests } = load(LAB);
  const token = 'netlab-test-0000';

  it('runs each probe in its node namespace, a listener around each serve test, and stops every listener', async () => {
    const { starter, started } = fakeStarter(() => 'listen');
    const runner = fakeRunner((argv) => {
      if (argv.includes('ping')) return argv.includes('-6') ? exit(1, '1 packets transmitted, 0 received, 100% packet loss') : ok('time=0.05 ms');
      if (argv.some((a) => a.startsWith('UDP6:'))) return exit(1, '', 'x socat[1] E read(5, 0x1, 17): Connection refused\n');
      if (argv.some((a) => a.includes(':22,'))) return exit(1, '', 'x socat[1] E connect(5, AF=2 198.51.100.20:22, 16): Connection refused\n');
      return ok(`${token}\n`);
    });
    const { results, interrupted } = await runTests(tests, { runner, starter, concurrency: 3, timeoutSeconds: 2, token });
    expect(interrupted).toBe(false);
    expect(results.map((r) => [r.test.number, r.outcome.got, passes(r.test.expect, r.outcome)])).toEqual([
      [1, 'success', true],
      [2, 'success', true],
      [3, 'fail', true],
      [4, 'fail', false],
      [5, 'success', true],
      [6, 'fail', true],
      [7, 'fail', false],
      [8, 'success', true],
    ]);
    expect(runner.calls.find((c) => c.includes('ping'))!.slice(0, 2)).toEqual(['nsenter', '--net=/run/netns/c0']);
    expect(started.map((p) => p.argv.slice(0, 2).join(' '))).toEqual(['nsenter --net=/run/netns/c0', 'nsenter --net=/run/netns/c0', 'nsenter --net=/run/netns/c0']);
    expect(started.every((p) => p.killed)).toBe(true);
  });

  it('fails a test whose listener cannot start, says why, and leaves nothing running', async () => {
    const { starter, started } = fakeStarter(() => 'die');
    const runner = fakeRunner(() => ok(`${token}\n`));
    const { results } = await runTests([tests[4]!], { runner, starter, concurrency: 1, timeoutSeconds: 2, token });
    expect(results[0]!.outcome).toEqual({ got: 'error', why: 'listener on c0:8080/tcp exited (1): bind(5, {AF=2 0.0.0.0:8080}, 16): Address already in use' });
    expect(runner.calls).toEqual([]); // no client without a listener
    expect(started[0]!.killed).toBe(true);
  });

  it('tries a silent connect again until the deadline: packets lost while a carrier comes up are not a failure', async () => {
    for (const test of [{ ...tests[5]!, expect: 'success' as const }, tests[4]!]) {
      const { starter } = fakeStarter(() => 'listen');
      let tries = 0;
      const timedOut = exit(1, '', 'x socat[1] E connecting to AF=2 198.51.100.10:8080: Connection timed out\n');
      const runner = fakeRunner(() => (++tries < 2 ? (test.check.kind === 'connect' && test.check.proto === 'udp' ? ok('') : timedOut) : ok(`${token}\n`)));
      const { results } = await runTests([test], { runner, starter, concurrency: 1, timeoutSeconds: 2, token });
      expect(tries).toBe(2);
      expect(results[0]!.outcome.got).toBe('success');
      // The client sends the token, the listener echoes it.
      expect(runner.calls[1]!.at(-1)).toMatch(/,readbytes=17$/);
      expect(runner.inputs).toEqual([`${token}\n`, `${token}\n`]);
    }
  });

  it('takes refused as an answer: no second try', async () => {
    const { starter } = fakeStarter(() => 'listen');
    const runner = fakeRunner(() => exit(1, '', 'x socat[1] E connect(5, AF=2 198.51.100.10:8080, 16): Connection refused\n'));
    const { results } = await runTests([tests[4]!], { runner, starter, concurrency: 1, timeoutSeconds: 2, token });
    expect(runner.calls).toHaveLength(1);
    expect(results[0]!.outcome).toEqual({ got: 'fail', why: 'connection refused' });
  });

  it('stops every listener when the run is aborted, and an aborted probe counts as interrupted', async () => {
    const { starter, started } = fakeStarter(() => 'listen');
    const abort = new AbortController();
    const runner = fakeRunner(async () => {
      abort.abort();
      await new Promise((r) => setTimeout(r, 10));
      return exit(1, '', 'x socat[1] E connecting to AF=2 198.51.100.10:8080: Connection timed out\n');
    });
    const { results, interrupted } = await runTests([tests[4]!, tests[7]!, tests[0]!], { runner, starter, concurrency: 1, timeoutSeconds: 2, token, signal: abort.signal });
    expect(interrupted).toBe(true);
    expect(results.map((r) => [r.test.number, r.outcome.why])).toEqual([[5, 'interrupted']]);
    expect(started).toHaveLength(1);
    expect(started[0]!.killed).toBe(true);
  });

  it('stops listeners even when a probe throws', async () => {
    const { starter, started } = fakeStarter(() => 'listen');
    const runner = fakeRunner(() => {
      throw new Error('boom');
    });
    await expect(runTests([tests[4]!], { runner, starter, concurrency: 1, timeoutSeconds: 2, token })).rejects.toThrow('boom');
    expect(started[0]!.killed).toBe(true);
  });
});
