// The scheduler: rounds one after another, a failure holding back only what depends on it, an
// interrupted run leaving the rest unstarted, and a round's ip and sysctl batches started by one
// process with their read-backs. A fake runner answers; nothing is started.
import { describe, expect, it } from 'vitest';
import { execute, type ExecuteDeps } from '../../src/kernel/execute.js';
import type { ProgressEvent } from '../../src/kernel/progress.js';
import { READ_LINES } from '../../src/kernel/read.js';
import type { Change } from '../../src/plan/change.js';
import type { Batch, Schedule } from '../../src/plan/graph.js';
import { fakeRunner, type Answer, type Call } from '../helpers/fake-runner.js';

const netns = (node: string): Change => ({ id: `netns/${node}`, kind: 'netns', action: 'create', node, netns: node, reason: 'missing' });
const bridge = (node: string): Change => ({ id: `bridge/${node}:br0`, kind: 'bridge', action: 'create', node, netns: node, name: 'br0', reason: 'missing' });
const up = (node: string): Change => ({ id: `settings/${node}:br0`, kind: 'settings', action: 'create', node, netns: node, name: 'br0', set: { up: true }, reason: 'down' });
const address = (node: string, i: number): Change => ({ id: `address/${node}:eth0/198.51.100.${i}/24`, kind: 'address', action: 'create', node, netns: node, dev: 'eth0', cidr: `198.51.100.${i}/24`, reason: 'missing' });
const forwarding = (node: string): Change => ({ id: `sysctl/${node}/net.ipv4.ip_forward`, kind: 'sysctl', action: 'update', node, netns: node, key: 'net.ipv4.ip_forward', value: '1', reason: 'is 0' });

const ipBatch = (netns: string | null, ...changes: Change[]): Batch => ({ scope: { tool: 'ip', netns }, changes });
const ids = (changes: readonly Change[]) => changes.map((c) => c.id);

/** Fails the first call whose input has `line`, at that line, as `ip -batch` does. */
function failOnce(line: string): Answer {
  let failed = false;
  return (call: Call) => {
    const at = (call.input ?? '').split('\n').indexOf(line);
    if (failed || at < 0) return undefined;
    failed = true;
    return { exitCode: 1, stderr: `RTNETLINK answers: File exists\nCommand failed -:${at + 1}\n` };
  };
}

function run(plan: Schedule, answer?: Answer, extra: Partial<ExecuteDeps> = {}) {
  const runner = fakeRunner(answer);
  const events: ProgressEvent[] = [];
  const result = execute(plan, { runner, concurrency: 2, onProgress: (e) => events.push(e), ...extra });
  return { runner, events, result };
}

describe('execute', () => {
  it('a failed change holds back what depends on it, in its batch and in later rounds, and nothing else', async () => {
    // Round 0 makes two namespaces; in c1, the bridge fails, so bringing it up is held back, the address not.
    const plan: Schedule = {
      rounds: [[ipBatch(null, netns('c0'), netns('c1'))], [ipBatch('c0', address('c0', 1)), ipBatch('c1', bridge('c1'), up('c1'), address('c1', 2))], [ipBatch('c1', address('c1', 3))]],
      deps: new Map([
        [address('c0', 1).id, [netns('c0').id]],
        [bridge('c1').id, [netns('c1').id]],
        [up('c1').id, [netns('c1').id, bridge('c1').id]],
        [address('c1', 2).id, [netns('c1').id]],
        [address('c1', 3).id, [up('c1').id]],
      ]),
    };
    const { runner, events, result } = run(plan, failOnce('link add name br0 type bridge'));
    const { done, failed, skipped, notStarted } = await result;
    expect(failed.map((f) => f.change.id)).toEqual([bridge('c1').id]);
    expect(ids(skipped).sort()).toEqual([address('c1', 3).id, up('c1').id].sort());
    expect(ids(done).sort()).toEqual([netns('c0').id, netns('c1').id, address('c0', 1).id, address('c1', 2).id].sort());
    expect(notStarted).toEqual([]);
    // Round 1's two batches were started by one process.
    expect(runner.fanouts).toBe(1);
    // What the failure cut off in c1's batch ran again on its own, without the change held back.
    expect(runner.calls.filter((c) => c.argv.includes('--net=/run/netns/c1')).map((c) => c.input)).toEqual([
      'link add name br0 type bridge\nlink set dev br0 up\naddr replace 198.51.100.2/24 dev eth0\n',
      'addr replace 198.51.100.2/24 dev eth0\n',
    ]);
    expect(events.filter((e) => e.type === 'skipped').map((e) => e.type === 'skipped' && e.change.id)).toEqual([up('c1').id, address('c1', 3).id]);
  });

  it('an interrupted run finishes what is under way and starts nothing more: the rest is not started', async () => {
    const controller = new AbortController();
    const plan: Schedule = {
      rounds: [[ipBatch(null, netns('c0'))], [ipBatch('c0', address('c0', 1), address('c0', 2))]],
      deps: new Map([
        [address('c0', 1).id, [netns('c0').id]],
        [address('c0', 2).id, [netns('c0').id]],
      ]),
    };
    const { runner, result } = run(
      plan,
      () => {
        controller.abort();
        return undefined;
      },
      { signal: controller.signal },
    );
    const { done, failed, skipped, notStarted } = await result;
    expect(ids(done)).toEqual([netns('c0').id]);
    expect(ids(notStarted)).toEqual([address('c0', 1).id, address('c0', 2).id]);
    expect([failed, skipped]).toEqual([[], []]);
    expect(runner.calls).toHaveLength(1);
  });

  it("starts a round's ip and sysctl batches through one process, and keeps what the batches asked to read back", async () => {
    const plan: Schedule = {
      rounds: [[ipBatch(null, netns('c0'), netns('c1'))], [ipBatch('c0', address('c0', 1)), ipBatch('c1', address('c1', 2)), { scope: { tool: 'sysctl', netns: 'c0' }, changes: [forwarding('c0')] }]],
      deps: new Map([
        [address('c0', 1).id, [netns('c0').id]],
        [address('c1', 2).id, [netns('c1').id]],
        [forwarding('c0').id, [netns('c0').id]],
      ]),
    };
    const answer: Answer = (call) => ({ stdout: call.argv.includes('sysctl') ? 'net.ipv4.ip_forward = 1\n' : `answers of ${call.argv[1]}\n` });
    const { runner, result } = run(plan, answer, {
      // c1 is read at the end of its round-1 batch; c0 is asked for in another round, so not read.
      readBack: new Map([
        ['c0', 2],
        ['c1', 1],
      ]),
      sysctlReadBack: new Map([['c0', { round: 1, keys: ['net.ipv4.ip_forward'] }]]),
    });
    const { done, readBack, sysctlReadBack } = await result;
    expect(done).toHaveLength(5);
    expect(runner.fanouts).toBe(1);
    const round1 = runner.calls.slice(1);
    expect(round1.map((c) => c.argv).sort()).toEqual(
      [
        ['nsenter', '--net=/run/netns/c0', 'ip', '-batch', '-'],
        ['nsenter', '--net=/run/netns/c1', 'ip', '-d', '-j', '-batch', '-'],
        ['nsenter', '--net=/run/netns/c0', 'sysctl', '-q', 'net.ipv4.ip_forward=1', 'net.ipv4.ip_forward'],
      ].sort(),
    );
    expect(round1.find((c) => c.argv.includes('-j'))!.input).toBe(`addr replace 198.51.100.2/24 dev eth0\n${READ_LINES.join('\n')}\n`);
    expect([...readBack]).toEqual([['c1', 'answers of --net=/run/netns/c1\n']]);
    expect([...sysctlReadBack]).toEqual([['c0', 'net.ipv4.ip_forward = 1\n']]);
  });
});
