// Trace tests without a kernel: each TTL-limited ping's answer read, hops named by the node that
// holds the address, the path judged, validated at line:col, and the probes run in order.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { parseLab } from '../../src/config/load.js';
import type { RunResult, Runner } from '../../src/kernel/runner.js';
import { renderFailures, runToJson, type TestRun } from '../../src/labtest/render.js';
import { resolveTests, type TraceCheck } from '../../src/labtest/resolve.js';
import { runTests, traceProbeArgv, type ProcessStarter } from '../../src/labtest/run.js';
import { classifyTrace, parseHop, type Hop } from '../../src/labtest/trace-outcome.js';

const exit = (exitCode: number, stdout: string, stderr = ''): RunResult => ({ exitCode, stdout, stderr });
const EXCEEDED = (from: string) => `PING x 56(84) bytes of data.\nFrom ${from} icmp_seq=1 Time to live exceeded\n\n--- x ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n`;
const REPLY = (from: string) => `PING x 56(84) bytes of data.\n64 bytes from ${from}: icmp_seq=1 ttl=62 time=0.05 ms\n\n--- x ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n`;
const SILENT = 'PING x 56(84) bytes of data.\n\n--- x ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n';

const LAB = `name: tr
nodes:
  a:
    interfaces:
      eth0: {addresses: [192.0.2.10/24, "2001:db8:1::10/64"]}
  r1:
    interfaces:
      a: {addresses: [192.0.2.1/24, "2001:db8:1::1/64"]}
      b: {addresses: [198.51.100.1/24]}
  r2:
    interfaces:
      b: {addresses: [198.51.100.2/24]}
      c: {addresses: [203.0.113.1/24]}
  c:
    interfaces:
      eth0: {addresses: [203.0.113.5/24]}
links:
  - [a:eth0, r1:a]
  - [r1:b, r2:b]
  - [r2:c, c:eth0]
tests:
  - {from: a, trace: c, path: [r1, r2, c]}
  - {from: a, trace: 203.0.113.5, path: [r1, c], expect: fail}
`;

function load(text = LAB) {
  const loaded = parseLab(text, 'lab.yaml');
  return { loaded, tests: loaded.spec ? resolveTests(loaded.spec, loaded.locate) : [] };
}

function check(path: string[]): TraceCheck {
  const trace = load().tests[0]!.check as TraceCheck;
  return { ...trace, path, maxHops: path.length + 3 };
}

describe('a trace probe and its answer', () => {
  it('sends one echo with the TTL, from validated values only', () => {
    expect(traceProbeArgv(check(['r1']), 2, 1)).toEqual(['setpriv', '--pdeathsig', 'KILL', 'ping', '-n', '-4', '-c', '1', '-W', '1', '-t', '2', '203.0.113.5']);
  });

  it('reads a router whose TTL ran out, the target answering, silence, unreachable and no route', () => {
    expect(parseHop(exit(1, EXCEEDED('192.0.2.1')))).toEqual({ kind: 'hop', address: '192.0.2.1' });
    expect(parseHop(exit(1, 'PING 2001:db8:2::5(2001:db8:2::5) 56 data bytes\nFrom 2001:DB8:1::1 icmp_seq=1 Time exceeded: Hop limit\n'))).toEqual({ kind: 'hop', address: '2001:db8:1::1' });
    expect(parseHop(exit(0, REPLY('203.0.113.5')))).toEqual({ kind: 'reached', address: '203.0.113.5' });
    expect(parseHop(exit(0, '64 bytes from 2001:db8:2::5: icmp_seq=1 ttl=63 time=0.05 ms\n'))).toEqual({ kind: 'reached', address: '2001:db8:2::5' });
    expect(parseHop(exit(1, SILENT))).toEqual({ kind: 'silent' });
    expect(parseHop(exit(1, 'From 198.51.100.2 icmp_seq=1 Destination Net Unreachable\n'))).toEqual({ kind: 'unreachable', address: '198.51.100.2', why: 'destination net unreachable' });
    expect(parseHop(exit(2, '', 'ping: connect: Network is unreachable\n'))).toEqual({ kind: 'no-route', why: 'network is unreachable' });
    expect(parseHop(exit(2, '', 'ping: invalid argument: foo\n'))).toEqual({ kind: 'error', why: 'ping could not run (exit 2): ping: invalid argument: foo' });
  });
});

describe('a trace judged against its path', () => {
  const hop = (address: string): Hop => ({ kind: 'hop', address });
  const reached: Hop = { kind: 'reached', address: '203.0.113.5' };

  it('names each hop by the node that holds the address; an address no node holds stays an address', () => {
    expect(classifyTrace([hop('192.0.2.1'), hop('198.51.100.2'), reached], check(['r1', 'r2', 'c']))).toEqual({ got: 'success', why: 'path r1 → r2 → c' });
    expect(classifyTrace([hop('192.0.2.1'), hop('10.9.9.9'), reached], check(['r1', 'r2', 'c']))).toEqual({ got: 'fail', why: 'path r1 → 10.9.9.9 → c, not r1 → r2 → c: hop 2 is 10.9.9.9, not r2' });
    expect(classifyTrace([hop('192.0.2.1'), hop('10.9.9.9'), reached], check(['r1', '10.9.9.9', 'c'])).got).toBe('success');
    expect(classifyTrace([hop('192.0.2.1'), { kind: 'silent' }, reached], check(['r1', 'r2', 'c'])).why).toBe('path r1 → * → c, not r1 → r2 → c: hop 2 is * (no answer), not r2');
    expect(classifyTrace([hop('192.0.2.1'), hop('198.51.100.2'), hop('198.51.100.2'), reached], check(['r1', 'r2', 'c'])).why).toBe('path r1 → r2 → r2 → c, not r1 → r2 → c: hop 3 is r2, not c');
  });

  it('fails on a shorter or longer path, one that ends early, or none', () => {
    expect(classifyTrace([hop('192.0.2.1'), reached], check(['r1', 'r2', 'c'])).why).toBe('path r1 → c, not r1 → r2 → c: hop 2 is c, not r2');
    expect(classifyTrace([hop('192.0.2.1'), { kind: 'unreachable', address: '198.51.100.2', why: 'destination net unreachable' }], check(['r1', 'r2', 'c']))).toEqual({
      got: 'fail',
      why: 'path r1 → r2 (r2 says destination net unreachable), not r1 → r2 → c',
    });
    expect(classifyTrace([hop('192.0.2.1'), { kind: 'silent' }, { kind: 'silent' }], check(['r1', 'c'])).why).toBe('path r1 → * → * (no answer from 203.0.113.5 within 3 hops), not r1 → c');
    expect(classifyTrace([{ kind: 'no-route', why: 'network is unreachable' }], check(['r1', 'c']))).toEqual({ got: 'fail', why: 'no route (network is unreachable), not r1 → c' });
    expect(classifyTrace([{ kind: 'error', why: 'ping could not run (exit 2): x' }], check(['r1'])).got).toBe('error');
  });
});

describe('trace tests validated at their line:col', () => {
  const tests = (lines: string) => LAB.replace(/tests:\n[\s\S]*$/, `tests:\n${lines}`);
  const shown = (text: string) => load(text).loaded.diagnostics.map((d) => `${d.line}:${d.col} ${formatDiagnostic(d).replace(/^lab\.yaml:\d+:\d+: /, '')}`);

  it('accepts the lab as written', () => {
    expect(shown(LAB)).toEqual([]);
  });

  it('names an unknown node, an empty path, a missing path, a misplaced one, an address a node holds, and the wrong last hop', () => {
    const text = tests(
      [
        '  - {from: a, trace: c, path: [r1, rr2, c]}',
        '  - {from: a, trace: c, path: []}',
        '  - {from: a, trace: c}',
        '  - {from: a, ping: c, path: [r1]}',
        '  - {from: a, trace: c, path: [192.0.2.1, r2, c]}',
        '  - {from: a, trace: 203.0.113.5, path: [r1, r2]}',
        '  - {from: a, trace: nowhere, path: [r1]}',
        '',
      ].join('\n'),
    );
    expect(shown(text)).toEqual([
      expect.stringMatching(/^22:36 error: path names "rr2", which is neither a node nor an IP address \(nodes: a, c, r1, r2\) — name a node of the lab \(did you mean r2\?\)/),
      expect.stringMatching(/^23:31 error: path is empty: a trace crosses at least the node that answers — e\.g\. \{from: a, trace: c, path: \[r1, r2, c\]\}/),
      expect.stringMatching(/^24:15 error: a trace test needs path: the nodes a packet to c must cross, in order/),
      expect.stringMatching(/^25:24 error: path is only for trace tests/),
      expect.stringMatching(/^26:32 error: path names 192\.0\.2\.1, an address of node r1 — write r1/),
      expect.stringMatching(/^27:46 error: path ends at r2, but a trace to 203\.0\.113\.5 ends where it answers: node c — end the path with c/),
      expect.stringMatching(/^28:22 error: trace target "nowhere" is neither an IP address nor a node/),
    ]);
  });
});

describe('running a trace', () => {
  const noListener: ProcessStarter = { start: () => { throw new Error('no listener expected'); } };

  it('probes TTL 1, 2, ... until the target answers, asks a silent hop again, and reports the path seen', async () => {
    const { tests } = load();
    const asked: string[] = [];
    const silentOnce = new Set<string>();
    const runner: Runner = {
      async run(argv) {
        const ttl = argv[argv.indexOf('-t') + 1]!;
        asked.push(ttl);
        if (ttl === '1') return exit(1, EXCEEDED('192.0.2.1'));
        if (ttl === '2' && !silentOnce.has(argv.join(' '))) {
          silentOnce.add(argv.join(' '));
          return exit(1, SILENT);
        }
        if (ttl === '2') return exit(1, EXCEEDED('198.51.100.2'));
        return exit(0, REPLY('203.0.113.5'));
      },
    };
    const { results } = await runTests([tests[0]!], { runner, starter: noListener, concurrency: 1, timeoutSeconds: 1 });
    expect(asked).toEqual(['1', '2', '2', '3']);
    expect(results[0]!.outcome).toEqual({ got: 'success', why: 'path r1 → r2 → c' });
    const again = await runTests([tests[1]!], { runner, starter: noListener, concurrency: 1, timeoutSeconds: 1 });
    const run: TestRun = { lab: 'tr', file: 'lab.yaml', results: again.results, seconds: 1, drift: 0 };
    expect(runToJson(run).results[0]).toMatchObject({ kind: 'trace', address: '203.0.113.5', path: ['r1', 'c'], passed: true, why: 'path r1 → r2 → c, not r1 → c: hop 2 is r2, not c' });
    const wrong = await runTests([{ ...tests[1]!, expect: 'success' }], { runner, starter: noListener, concurrency: 1, timeoutSeconds: 1 });
    expect(renderFailures({ ...run, results: wrong.results })).toEqual(['lab.yaml:23:5: test 2 failed: a: trace 203.0.113.5, path r1 → c: expected success, got fail: path r1 → r2 → c, not r1 → c: hop 2 is r2, not c']);
  });
});
