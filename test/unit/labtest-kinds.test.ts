// netlab test's newer kinds without a kernel: ping size/df and counts judged by their summary,
// route tests judged by `ip -j route get`, and `within` tried again on a fake clock.
import { describe, expect, it } from 'vitest';
import { parseLab } from '../../src/config/load.js';
import type { RunResult, Runner } from '../../src/kernel/runner.js';
import { classifyPing, failureReason } from '../../src/labtest/outcome.js';
import { classifyMeasuredPing, parsePingSummary } from '../../src/labtest/ping-measure.js';
import { renderFailures, runToJson, type TestRun } from '../../src/labtest/render.js';
import { resolveTests, type LabTest, type PingCheck, type RouteCheck } from '../../src/labtest/resolve.js';
import { tryWithin, type Clock } from '../../src/labtest/retry.js';
import { classifyRouteGet } from '../../src/labtest/route-outcome.js';
import { pingArgv, routeGetArgv, runTests, type ProcessStarter } from '../../src/labtest/run.js';
import type { Outcome } from '../../src/labtest/outcome.js';
import { parseDuration, parseMilliseconds, parsePercent } from '../../src/model/quantities.js';

const exit = (exitCode: number, stdout: string, stderr = ''): RunResult => ({ exitCode, stdout, stderr });

const LAB = `name: kinds
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.10/24, "2001:db8:1::10/64"]}
  b:
    interfaces:
      eth0: {addresses: [198.51.100.20/24]}
links:
  - [a:eth0, b:eth0]
tests:
  - {from: a, ping: b, size: 1472, df: true}
  - {from: a, ping: b, count: 50, loss: {max: 5%}, rtt: {min: 90ms, max: 150ms}}
  - {from: a, ping: 198.51.100.20, within: 10s}
  - {from: a, route: 203.0.113.5, via: 198.51.100.1, dev: eth0}
  - {from: a, route: "2001:db8:9::5", dev: eth0, source: "2001:db8:1::10", mark: 7, expect: fail}
`;

function load(): LabTest[] {
  const loaded = parseLab(LAB, 'lab.yaml');
  expect(loaded.diagnostics).toEqual([]);
  return resolveTests(loaded.spec!, loaded.locate);
}

const SUMMARY = (tx: number, rx: number, avg?: number) =>
  `--- x ping statistics ---\n${tx} packets transmitted, ${rx} received, ${Math.round(((tx - rx) / tx) * 100)}% packet loss, time 4900ms\n${avg === undefined ? '' : `rtt min/avg/max/mdev = 0.040/${avg}/0.090/0.010 ms\n`}`;

describe('resolving the new kinds', () => {
  it('labels each test as written and keeps its options as numbers', () => {
    const tests = load();
    expect(tests.map((t) => t.label)).toEqual([
      'a: ping b (198.51.100.20), size 1472 df',
      'a: ping b (198.51.100.20), count 50, loss max 5%, rtt min 90ms max 150ms',
      'a: ping 198.51.100.20, within 10s',
      'a: route 203.0.113.5 via 198.51.100.1 dev eth0',
      'a: route 2001:db8:9::5 from 2001:db8:1::10 mark 7 dev eth0',
    ]);
    expect(tests[1]!.check).toEqual({ kind: 'ping', address: '198.51.100.20', family: 4, count: 50, loss: { max: 5 }, rtt: { min: 90, max: 150 } });
    expect(tests[2]!.withinSeconds).toBe(10);
    expect(tests[4]!.check).toEqual({ kind: 'route', address: '2001:db8:9::5', family: 6, dev: 'eth0', source: '2001:db8:1::10', mark: 7 });
  });

  it('builds argv from validated values only', () => {
    const [df, counted, , route, route6] = load().map((t) => t.check);
    const guard = ['setpriv', '--pdeathsig', 'KILL'];
    expect(pingArgv(df as PingCheck, 3)).toEqual([...guard, 'ping', '-n', '-4', '-c', '1', '-w', '3', '-s', '1472', '-M', 'do', '198.51.100.20']);
    // A size without df may be fragmented: ping's own default would set DF.
    expect(pingArgv({ ...(df as PingCheck), df: undefined }, 3)).toEqual([...guard, 'ping', '-n', '-4', '-c', '1', '-w', '3', '-s', '1472', '-M', 'dont', '198.51.100.20']);
    expect(pingArgv(counted as PingCheck, 3)).toEqual([...guard, 'ping', '-n', '-4', '-c', '50', '-i', '0.1', '-W', '3', '198.51.100.20']);
    expect(routeGetArgv(route as RouteCheck)).toEqual([...guard, 'ip', '-j', '-4', 'route', 'get', '203.0.113.5']);
    expect(routeGetArgv(route6 as RouteCheck)).toEqual([...guard, 'ip', '-j', '-6', 'route', 'get', '2001:db8:9::5', 'from', '2001:db8:1::10', 'mark', '7']);
  });
});

describe('ping with df: a packet too big for the path', () => {
  it('says the MTU, whether a router said so or the kernel knew it', () => {
    const router = 'PING 203.0.113.20 (203.0.113.20) 1472(1500) bytes of data.\nFrom 198.51.100.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)\n\n--- 203.0.113.20 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n';
    expect(classifyPing(exit(1, router), 3)).toEqual({ got: 'fail', why: "100% packet loss (too big: 198.51.100.1 says the path's mtu is 1400)" });
    const local = '1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n';
    expect(classifyPing(exit(1, local, 'ping: local error: message too long, mtu=1400\n'), 3)).toEqual({ got: 'fail', why: "100% packet loss (too big: the path's mtu is 1400)" });
    expect(classifyPing(exit(1, local, 'ping: local error: message too long, mtu: 1280\n'), 3).why).toBe("100% packet loss (too big: the path's mtu is 1280)"); // ping -6
    const v6 = 'From 2001:db8:1::1 icmp_seq=1 Packet too big: mtu=1280\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n';
    expect(classifyPing(exit(1, v6), 3).why).toBe("100% packet loss (too big: 2001:db8:1::1 says the path's mtu is 1280)");
  });
});

describe('ping with a count: loss and rtt bounds', () => {
  const [, counted] = load();
  const check = counted!.check as PingCheck;

  it('reads the summary', () => {
    expect(parsePingSummary(SUMMARY(50, 48, 0.057))).toEqual({ transmitted: 50, received: 48, rttAvgMs: 0.057, rttMedianMs: 0.057 });
    expect(parsePingSummary(SUMMARY(5, 0))).toEqual({ transmitted: 5, received: 0, rttAvgMs: undefined, rttMedianMs: undefined });
    expect(parsePingSummary('ping: unknown host')).toBeUndefined();
  });

  it("judges the median of the answers' times: one echo held up for a second does not fail a 40 ms link", () => {
    const reply = (seq: number, ms: number, dup = false) => `64 bytes from 10.2.0.10: icmp_seq=${seq} ttl=62 time=${ms} ms${dup ? ' (DUP!)' : ''}\n`;
    const times = [41.2, 40.9, 1002, 41.5, 40.7, 960, 41.1, 41.3, 40.8, 41.0];
    const output = `PING 10.2.0.10 (10.2.0.10) 56(84) bytes of data.\n${times.map((t, i) => reply(i + 1, t)).join('')}${reply(3, 5, true)}${SUMMARY(10, 10, 229)}`;
    expect(parsePingSummary(output)?.rttAvgMs).toBe(229);
    expect(parsePingSummary(output)?.rttMedianMs).toBeCloseTo(41.15, 6);
    const wan: PingCheck = { ...check, loss: undefined, rtt: { min: 40, max: 80 } };
    expect(classifyMeasuredPing(exit(0, output), wan, 3)).toEqual({ got: 'success', why: 'rtt median 41.2 ms (avg 229 ms)' });
    // Most echoes slow is a slow link: the median says so.
    const slow = `${[90, 91, 41, 92, 93].map((t, i) => reply(i + 1, t)).join('')}${SUMMARY(5, 5, 81.4)}`;
    expect(classifyMeasuredPing(exit(0, slow), wan, 3)).toEqual({ got: 'fail', why: 'rtt median 91 ms (avg 81.4 ms), above the max 80 ms' });
  });

  it('passes within the bounds; out of them fails, saying what was measured against which bound', () => {
    expect(classifyMeasuredPing(exit(0, SUMMARY(50, 49, 102.5)), check, 3)).toEqual({ got: 'success', why: 'loss 2% (1 of 50); rtt median 103 ms' });
    expect(classifyMeasuredPing(exit(0, SUMMARY(50, 46, 0.057)), check, 3)).toEqual({
      got: 'fail',
      why: 'loss 8% (4 of 50), above the max 5%; rtt median 0.057 ms, below the min 90 ms',
    });
    expect(classifyMeasuredPing(exit(0, SUMMARY(50, 50, 151)), check, 3)).toEqual({ got: 'fail', why: 'loss 0% (0 of 50); rtt median 151 ms, above the max 150 ms' });
  });

  it('nothing answered: the loss is 100%, and there is no round trip to measure', () => {
    expect(classifyMeasuredPing(exit(1, SUMMARY(50, 0)), check, 3)).toEqual({
      got: 'fail',
      why: 'loss 100% (50 of 50), above the max 5%; no round trip to measure (100% packet loss)',
    });
    expect(classifyMeasuredPing(exit(2, '', 'ping: connect: Network is unreachable\n'), check, 3)).toEqual({ got: 'fail', why: 'network is unreachable' });
  });

  it('a count without bounds passes when an echo was answered, as ping says', () => {
    const bare: PingCheck = { kind: 'ping', address: '198.51.100.20', family: 4, count: 5 };
    expect(classifyMeasuredPing(exit(0, SUMMARY(5, 3, 0.05)), bare, 3)).toEqual({ got: 'success', why: '3 of 5 answered' });
    expect(classifyMeasuredPing(exit(1, SUMMARY(5, 0)), bare, 3)).toEqual({ got: 'fail', why: '100% packet loss' });
  });
});

describe('route tests: what ip route get chose', () => {
  const check: RouteCheck = { kind: 'route', address: '203.0.113.5', family: 4, via: '198.51.100.1', dev: 'eth0' };
  const got = (route: Record<string, unknown>) => exit(0, JSON.stringify([{ dst: '203.0.113.5', flags: [], uid: 0, cache: [], ...route }]));

  it('passes on the named via and dev, and says what the kernel chose otherwise', () => {
    expect(classifyRouteGet(got({ gateway: '198.51.100.1', dev: 'eth0', prefsrc: '198.51.100.10' }), check)).toEqual({ got: 'success', why: 'the kernel chose via 198.51.100.1 dev eth0, source 198.51.100.10' });
    expect(classifyRouteGet(got({ gateway: '198.51.100.2', dev: 'eth0' }), check)).toEqual({ got: 'fail', why: 'the kernel chose via 198.51.100.2 dev eth0, not via 198.51.100.1 dev eth0' });
    expect(classifyRouteGet(got({ dev: 'eth1' }), check)).toEqual({ got: 'fail', why: 'the kernel chose dev eth1 (no gateway), not via 198.51.100.1 dev eth0' });
    expect(classifyRouteGet(got({ type: 'blackhole', dev: 'lo' }), { ...check, via: undefined, dev: 'lo' })).toEqual({ got: 'fail', why: 'the kernel chose a blackhole route, not dev lo' });
    // Only what the test names is compared.
    expect(classifyRouteGet(got({ gateway: '198.51.100.1', dev: 'eth7' }), { ...check, dev: undefined }).got).toBe('success');
    expect(classifyRouteGet(got({ gateway: '2001:DB8::0001', dev: 'eth0' }), { ...check, family: 6, via: '2001:db8::1' }).got).toBe('success');
  });

  it('no route is fail; anything else ip says is an error', () => {
    expect(classifyRouteGet(exit(2, '', 'RTNETLINK answers: Network is unreachable\n'), check)).toEqual({ got: 'fail', why: 'the kernel has no route (network is unreachable), not via 198.51.100.1 dev eth0' });
    expect(classifyRouteGet(exit(2, '', 'RTNETLINK answers: Invalid argument\n'), check)).toEqual({ got: 'error', why: 'ip route get could not answer (exit 2): Invalid argument' });
    expect(classifyRouteGet(exit(0, ''), check).got).toBe('error');
  });

  it('a route test expecting fail that the kernel matched says so', () => {
    expect(failureReason('fail', { got: 'success', why: 'the kernel chose via 198.51.100.1 dev eth0' }, 'route')).toBe('the kernel chose via 198.51.100.1 dev eth0, but the test expects the kernel to choose otherwise');
  });
});

function fakeClock(): Clock & { slept: number[]; advance(ms: number): void } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    advance: (ms) => (t += ms),
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe('within: tried again until it passes or the time is up', () => {
  const fail: Outcome = { got: 'fail', why: '100% packet loss' };
  const pass: Outcome = { got: 'success', why: 'answered' };
  const accept = (o: Outcome) => o.got === 'success';

  it('stops at the first pass', async () => {
    const clock = fakeClock();
    const answers = [fail, fail, pass, fail];
    const tried = await tryWithin(async () => answers.shift()!, accept, 10, { clock });
    expect(tried).toEqual({ outcome: pass, tries: 3 });
    expect(clock.slept).toEqual([500, 500]);
  });

  it('gives up when the time is up, saying how often and how long it tried', async () => {
    const clock = fakeClock();
    const tried = await tryWithin(
      async () => {
        clock.advance(1000); // each try takes 1 s
        return fail;
      },
      accept,
      5,
      { clock },
    );
    expect(tried.tries).toBe(4);
    expect(tried.outcome).toEqual({ got: 'fail', why: '100% packet loss (still after 4 tries in 5.5 s, within 5 s)' });
  });

  it('without within: one try, the outcome as it is', async () => {
    let tries = 0;
    expect(await tryWithin(async () => (tries++, fail), accept, undefined, { clock: fakeClock() })).toEqual({ outcome: fail, tries: 1 });
  });

  it('an abort stops the tries', async () => {
    const abort = new AbortController();
    let tries = 0;
    const tried = await tryWithin(async () => (++tries === 2 && abort.abort(), fail), accept, 60, { clock: fakeClock(), signal: abort.signal });
    expect(tried.tries).toBe(2);
  });
});

describe('running and reporting the new kinds', () => {
  const noListener: ProcessStarter = { start: () => { throw new Error('no listener expected'); } };

  it('runs each probe, retries a within test, and reports JSON and one line per failure', async () => {
    const tests = load();
    let pings = 0;
    const runner: Runner = {
      async run(argv) {
        if (argv.includes('route')) {
          return argv.includes('-6') ? exit(0, JSON.stringify([{ dst: '2001:db8:9::5', dev: 'eth0' }])) : exit(0, JSON.stringify([{ dst: '203.0.113.5', gateway: '198.51.100.9', dev: 'eth0' }]));
        }
        if (argv.includes('-M')) return exit(1, '1 packets transmitted, 0 received, +1 errors, 100% packet loss\n', "ping: local error: message too long, mtu=1400\n");
        if (argv.includes('50')) return exit(0, SUMMARY(50, 50, 100));
        return ++pings < 2 ? exit(1, SUMMARY(1, 0)) : exit(0, 'time=0.05 ms\n');
      },
    };
    const { results } = await runTests(tests, { runner, starter: noListener, concurrency: 2, timeoutSeconds: 1 });
    const run: TestRun = { lab: 'kinds', file: 'lab.yaml', results, seconds: 1, drift: 0 };
    expect(renderFailures(run)).toEqual([
      "lab.yaml:12:5: test 1 failed: a: ping b (198.51.100.20), size 1472 df: expected success, got fail: 100% packet loss (too big: the path's mtu is 1400)",
      'lab.yaml:15:5: test 4 failed: a: route 203.0.113.5 via 198.51.100.1 dev eth0: expected success, got fail: the kernel chose via 198.51.100.9 dev eth0, not via 198.51.100.1 dev eth0',
      'lab.yaml:16:5: test 5 failed: a: route 2001:db8:9::5 from 2001:db8:1::10 mark 7 dev eth0: expected fail, got success: the kernel chose dev eth0 (no gateway), but the test expects the kernel to choose otherwise',
    ]);
    const json = runToJson(run).results;
    expect(json[0]).toMatchObject({ kind: 'ping', size: 1472, df: true, passed: false });
    expect(json[1]).toMatchObject({ kind: 'ping', count: 50, passed: true, why: 'loss 0% (0 of 50); rtt median 100 ms' });
    expect(json[2]).toMatchObject({ kind: 'ping', within: 10, tries: 2, passed: true });
    expect(json[3]).toMatchObject({ kind: 'route', address: '203.0.113.5', via: '198.51.100.1', dev: 'eth0' });
    expect(json[4]).toMatchObject({ kind: 'route', source: '2001:db8:1::10', mark: 7, expected: 'fail' });
    expect(json[0]).not.toHaveProperty('within');
  });
});

describe('durations and percentages as a lab file writes them', () => {
  it('reads ms, s and m, and percentages; anything else is undefined', () => {
    expect([parseDuration('10s'), parseDuration('500ms'), parseDuration('1.5m'), parseDuration('10'), parseDuration('soon')]).toEqual([10, 0.5, 90, undefined, undefined]);
    expect(parseMilliseconds('150ms')).toBe(150);
    expect([parsePercent('5%'), parsePercent('0.5%'), parsePercent('150%'), parsePercent('5'), parsePercent('-1%')]).toEqual([5, 0.5, 150, undefined, undefined]);
  });
});
