// impair: with netem, under Debian's stock kernel (one boot for all of it): the WAN lab applies,
// passes its tests (RTT and an iperf3 throughput) with nothing to change, and destroys; a 50 ms delay on
// one end adds 50 to 60 ms to the RTT; 10% loss loses 5 to 15% of 200 pings; and a delay changed
// in the file is one change, made in place (tc qdisc replace): the link keeps its ifindex.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOPOLOGIES, runInVm, vmUnavailable } from './vm.js';
import { ok, pingSummary, timings } from './steps.js';

const why = vmUnavailable();

/** Node a's eth0 delays by 50 ms; node c's eth0 loses 10%, and its RTT is the baseline. */
const DELAY_LAB = `name: impair-vm
nodes:
  a:
    interfaces:
      eth0: {addresses: [192.0.2.1/24], impair: {delay: 50ms}}
  b:
    interfaces:
      eth0: {addresses: [192.0.2.2/24]}
  c:
    interfaces:
      eth0: {addresses: [198.51.100.1/24], impair: {loss: 10%}}
  d:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
links:
  - [a:eth0, b:eth0]
  - [c:eth0, d:eth0]
`;

const ifindexOf = (output: string) => (JSON.parse(output) as Array<{ ifindex: number }>)[0]!.ifindex;

describe.skipIf(why !== undefined)('impair: with netem, under Debian stock kernel', () => {
  it('WAN lab: tested, planned clean, destroyed; 50 ms delay and 10% loss measured; a new delay applied in place', async () => {
    const wan = join(TOPOLOGIES, 'wan-emulation.yaml');
    const run = await runInVm(
      `
cat >delay.yaml <<'EOF'
${DELAY_LAB}EOF
step apply-wan netlab apply ${wan}
step test-wan netlab test ${wan} --json
step destroy-wan netlab destroy ${wan}
step apply-delay netlab apply delay.yaml
step ping-delay ip netns exec a ping -n -q -c 20 -i 0.05 192.0.2.2
step ping-base ip netns exec c ping -n -q -c 20 -i 0.05 198.51.100.2
step ping-loss ip netns exec c ping -n -q -c 200 -i 0.01 -W 1 198.51.100.2
step ifindex-before ip -n a -j link show eth0
sed -i 's/delay: 50ms/delay: 80ms/' delay.yaml
step plan-edit netlab plan delay.yaml --json
step apply-edit netlab apply delay.yaml
step ifindex-after ip -n a -j link show eth0
step qdisc-after tc -n a -j qdisc show dev eth0
step ping-edit ip netns exec a ping -n -q -c 10 -i 0.05 192.0.2.2
`,
      400_000,
    );
    console.log(timings(run));

    ok(run, 'apply-wan');
    const report = JSON.parse(ok(run, 'test-wan')) as { ok: boolean; drift: number; results: Array<{ test: string; why: string }> };
    console.log(report.results.map((r) => `${r.test}: ${r.why}`).join('\n'));
    expect(report.ok, JSON.stringify(report.results)).toBe(true);
    // test reads the lab as plan does, and counts what apply would change: the lab plans clean.
    expect(report.drift).toBe(0);
    ok(run, 'destroy-wan');

    ok(run, 'apply-delay');
    const base = pingSummary(ok(run, 'ping-base'));
    const delayed = pingSummary(ok(run, 'ping-delay'));
    // The fastest of each: emulation on a busy machine adds milliseconds of noise to the rest.
    // netem holds every echo its full delay, so the delayed pair's own fastest is the lower bound;
    // less the other pair's fastest (which can be a few µs slower than this pair's wire) the upper.
    const added = delayed.min - base.min;
    expect(delayed.received).toBe(20);
    expect(delayed.min).toBeGreaterThanOrEqual(50);
    expect(added).toBeLessThanOrEqual(60);

    const loss = pingSummary(run.step('ping-loss').output);
    const lossPercent = ((loss.sent - loss.received) / loss.sent) * 100;
    expect(loss.sent).toBe(200);
    expect(lossPercent).toBeGreaterThanOrEqual(5);
    expect(lossPercent).toBeLessThanOrEqual(15);

    const plan = JSON.parse(ok(run, 'plan-edit')) as { changes: Array<{ kind: string; action: string; id: string; reason: string; commands: string[] }> };
    expect(plan.changes).toEqual([
      { ...plan.changes[0], kind: 'qdisc', action: 'update', id: 'qdisc/a:eth0', reason: 'delay is 50ms, the file says 80ms', commands: ['tc qdisc replace dev eth0 root handle 4d: netem delay 80ms'] },
    ]);
    ok(run, 'apply-edit');
    expect(ifindexOf(ok(run, 'ifindex-after'))).toBe(ifindexOf(ok(run, 'ifindex-before')));
    const [qdisc] = JSON.parse(ok(run, 'qdisc-after')) as Array<{ kind: string; handle: string; options: { delay?: { delay: number } } }>;
    expect(qdisc).toMatchObject({ kind: 'netem', handle: '4d:', options: { delay: { delay: 0.08 } } });
    const edited = pingSummary(ok(run, 'ping-edit'));
    expect(edited.min).toBeGreaterThanOrEqual(80);
    expect(edited.min - base.min).toBeLessThanOrEqual(90);

    console.log(`RTT min baseline ${base.min} ms, with delay 50ms ${delayed.min} ms (avg ${delayed.avg}), with 80ms ${edited.min} ms; loss 10%: ${lossPercent}% of ${loss.sent}`);
  });
});
