// `impair:` and throughput tests, the pure parts: tc's units, the qdisc a file asks for and its
// tc options, tc's JSON read back (netem as the stock kernel prints it, tbf as this one does),
// how they compare, what apply does about it, what the lab owns where it does not own the
// namespace, and what iperf3's JSON says. The kernel tests are test/integration/impair.test.ts
// and test/kernel-vm/impair.test.ts.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { hasOwnRootQdisc, parseQdiscs } from '../../src/kernel/tc-read.js';
import { formatRate, parseRate, parseTime, qdiscOptions, tbfBurst } from '../../src/model/impair.js';
import { resolveLab } from '../../src/model/resolve.js';
import { emptyNode, type LabState, type NodeState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { schedule, settledByOwnLastBatch } from '../../src/plan/graph.js';
import { classifyThroughput, type ThroughputCheck } from '../../src/labtest/throughput.js';
import { commandsOf, featureNeeds } from '../../src/resources/registry.js';
import { partialOwnership, recordAfterRun, recordBeforeRun } from '../../src/state/bookkeeping.js';
import { commandLines } from '../../src/views/script.js';
import { tcDriver } from '../../src/kernel/drivers/tc.js';
import { parseNode } from '../../src/kernel/parse.js';
import { exportLab } from '../../src/views/export.js';
import { renderMermaid } from '../../src/views/graph.js';
import { parse as parseYaml } from 'yaml';
import type { Change } from '../../src/plan/change.js';

/** `tc -j qdisc show` of a netem with every key, from Debian's 6.1 kernel (test/kernel-vm). */
const NETEM_JSON = {
  kind: 'netem',
  handle: '4d:',
  dev: 'eth0',
  root: true,
  refcnt: 3,
  options: {
    limit: 1000,
    delay: { delay: 0.05, jitter: 0.005, correlation: 0 },
    'loss-random': { loss: 0.01, correlation: 0 },
    duplicate: { duplicate: 0.001, correlation: 0 },
    reorder: { reorder: 0.25, correlation: 0 },
    corrupt: { corrupt: 0.001, correlation: 0 },
    rate: { rate: 1250000, packetoverhead: 0, cellsize: 0, celloverhead: 0 },
    ecn: false,
    gap: 1,
  },
};
const TBF_JSON = { kind: 'tbf', handle: '4d:', dev: 'eth0', root: true, refcnt: 3, options: { rate: 1250000, burst: 12500, lat: 50000 } };

const spec = (impairA: Record<string, string> | undefined): LabSpec => ({
  name: 'wan',
  nodes: {
    a: { interfaces: { eth0: { addresses: ['192.0.2.1/24'], ...(impairA ? { impair: impairA } : {}) } } },
    b: { interfaces: { eth0: { addresses: ['192.0.2.2/24'] } } },
  },
  links: [['a:eth0', 'b:eth0']],
});

/** The kernel after an apply of `desired`, with `edit` done to node a by hand. */
function applied(desired: LabState, edit: (a: NodeState) => void = () => {}): LabState {
  const nodes = new Map<string, NodeState>();
  for (const [name, d] of desired.nodes) {
    const links = new Map([...d.links].map(([ln, l]) => [ln, { ...l, peer: undefined, kernelPeer: { ifindex: name === 'a' ? 2 : 3, peerIfindex: name === 'a' ? 3 : 2, peerNetnsId: 0 } }]));
    nodes.set(name, { ...d, owner: desired.lab, exists: true, loUp: true, links, qdiscs: new Map([...d.qdiscs].map(([k, q]) => [k, structuredClone(q)])) });
  }
  edit(nodes.get('a')!);
  return { lab: desired.lab, nodes };
}

const qdiscChanges = (plan: ReturnType<typeof diff>) => plan.changes.filter((c) => c.kind === 'qdisc');
const lines = (plan: ReturnType<typeof diff>) => qdiscChanges(plan).map((c) => `${c.action} ${c.id}: ${c.reason}`);

describe("tc's units", () => {
  it('reads rates as tc does: bits, SI and IEC, and its bps units as bytes per second', () => {
    expect([parseRate('10mbit'), parseRate('10Mbit'), parseRate('512kbit'), parseRate('1gbit'), parseRate('1mibit'), parseRate('1mbps')]).toEqual([10e6, 10e6, 512e3, 1e9, 1048576, 8e6]);
    expect([parseRate('10'), parseRate('10M'), parseRate('fast'), parseRate('0bit')]).toEqual([undefined, undefined, undefined, undefined]);
    expect([formatRate(10e6), formatRate(1500e3), formatRate(1e9), formatRate(12345)]).toEqual(['10mbit', '1500kbit', '1gbit', '12345bit']);
  });

  it('reads times with their unit, in microseconds', () => {
    expect([parseTime('50ms'), parseTime('1.5s'), parseTime('100us'), parseTime('2sec')]).toEqual([50_000, 1_500_000, 100, 2_000_000]);
    expect([parseTime('50'), parseTime('5m')]).toEqual([undefined, undefined]);
  });
});

describe('the qdisc of an impair:', () => {
  it('is a tbf for a rate alone, its bucket 10 ms of the rate and never under two full frames', () => {
    const q = resolveLab(spec({ rate: '10mbit' })).nodes.get('a')!.qdiscs.get('eth0')!;
    expect(q).toMatchObject({ kind: 'tbf', handle: '4d:' });
    expect(qdiscOptions(q.impair!)).toBe('tbf rate 10mbit burst 12500 latency 50ms');
    expect(tbfBurst(1e6)).toBe(3028);
  });

  it("is netem for anything else, its options in netem's order", () => {
    const q = resolveLab(spec({ rate: '10mbit', loss: '1%', delay: '50ms', jitter: '5ms', corrupt: '0.1%', duplicate: '0.1%', reorder: '25%' })).nodes.get('a')!.qdiscs.get('eth0')!;
    expect(qdiscOptions(q.impair!)).toBe('netem delay 50ms 5ms loss 1% duplicate 0.1% reorder 25% corrupt 0.1% rate 10mbit');
  });

  it("is on both ends for a link's impair:, and an interface's own replaces it for its end", () => {
    const desired = resolveLab({ ...spec({ rate: '1mbit' }), links: [{ endpoints: ['a:eth0', 'b:eth0'], impair: { delay: '20ms' } }] });
    expect(qdiscOptions(desired.nodes.get('a')!.qdiscs.get('eth0')!.impair!)).toBe('tbf rate 1mbit burst 3028 latency 50ms');
    expect(qdiscOptions(desired.nodes.get('b')!.qdiscs.get('eth0')!.impair!)).toBe('netem delay 20ms');
  });

  it('needs netem for netem keys, named by interface and keys, and nothing for a tbf', () => {
    expect(featureNeeds(resolveLab(spec({ delay: '50ms', loss: '1%', rate: '1mbit' })))).toEqual([{ feature: 'netem', object: 'a:eth0', key: 'impair delay, loss' }]);
    expect(featureNeeds(resolveLab(spec({ rate: '1mbit' })))).toEqual([]);
  });
});

describe('tc -j qdisc show, read back', () => {
  it('parses netem as the stock kernel prints it: seconds and fractions', () => {
    const q = parseQdiscs(JSON.stringify([NETEM_JSON, { kind: 'noqueue', handle: '0:', dev: 'lo', root: true, options: {} }])).get('eth0')!;
    expect(q.impair).toEqual({ delay: 50_000, jitter: 5_000, loss: 1, duplicate: 0.1, reorder: 25, corrupt: 0.1, rate: 10e6 });
  });

  it('parses tbf: bytes per second, bytes and microseconds; and leaves out what the kernel gives by itself', () => {
    const qdiscs = parseQdiscs(JSON.stringify([TBF_JSON, { kind: 'fq_codel', handle: '0:', dev: 'eth1', root: true, options: {} }, { kind: 'tbf', handle: '10:', parent: '1:1', dev: 'eth2', options: {} }]));
    expect([...qdiscs.values()]).toEqual([{ dev: 'eth0', kind: 'tbf', handle: '4d:', impair: { rate: 10e6 }, burst: 12500, latency: 50_000 }]);
  });

  it('is asked for only where a link shows a root qdisc the kernel did not give', () => {
    expect(hasOwnRootQdisc([{ ifindex: 1, ifname: 'lo', qdisc: 'noqueue' }, { ifindex: 2, ifname: 'eth0', qdisc: 'fq_codel' }])).toBe(false);
    expect(hasOwnRootQdisc([{ ifindex: 2, ifname: 'eth0', qdisc: 'netem' }])).toBe(true);
  });
});

describe('plan and apply of impair:', () => {
  const desired = resolveLab(spec({ delay: '50ms', loss: '1%' }));

  it('replaces the root qdisc once its link exists, marked with handle 4d:', () => {
    const plan = diff(desired, { lab: 'wan', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    const change = qdiscChanges(plan)[0]!;
    expect(lines(plan)).toEqual(['create qdisc/a:eth0: netem delay 50ms, loss 1% on eth0 missing']);
    expect(commandsOf(change)).toEqual([{ tool: 'tc', line: 'qdisc replace dev eth0 root handle 4d: netem delay 50ms loss 1%' }]);
    expect(commandLines(commandsOf(change)[0]!, 'a')).toEqual(['tc -n a qdisc replace dev eth0 root handle 4d: netem delay 50ms loss 1%']);
    expect(schedule(plan.changes).deps.get(change.id)).toContain('veth/a:eth0=b:eth0');
  });

  it("runs tc alongside the namespace's ip batch, so that batch's read-back, which shows the root qdisc, is not taken as final", () => {
    const plan = diff(desired, { lab: 'wan', nodes: new Map([...desired.nodes].map(([n, s]) => [n, emptyNode(n, s.netns, false)])) });
    const s = schedule(plan.changes);
    const round = s.rounds.findIndex((r) => r.some((b) => b.scope.tool === 'tc'));
    expect(s.rounds[round]!.map((b) => `${b.scope.tool}@${b.scope.netns}`)).toContain('ip@a');
    expect([...settledByOwnLastBatch(s).keys()]).toEqual(['b']);
  });

  it('plans nothing when the kernel has it, and changes a value edited by hand in place', () => {
    expect(lines(diff(desired, applied(desired)))).toEqual([]);
    const edited = applied(desired, (a) => (a.qdiscs.get('eth0')!.impair!.delay = 80_000));
    const plan = diff(desired, edited);
    expect(lines(plan)).toEqual(['update qdisc/a:eth0: delay is 80ms, the file says 50ms']);
    expect(commandsOf(qdiscChanges(plan)[0]!)).toEqual([{ tool: 'tc', line: 'qdisc replace dev eth0 root handle 4d: netem delay 50ms loss 1%' }]);
  });

  it('makes a netem again when it would keep a reorder the file does not have, or its kind changes', () => {
    const reordered = applied(desired, (a) => (a.qdiscs.get('eth0')!.impair!.reorder = 25));
    const plan = diff(desired, reordered);
    expect(lines(plan)).toEqual(['update qdisc/a:eth0: reorder 25% is not in the file']);
    expect(commandsOf(qdiscChanges(plan)[0]!).map((c) => (c as { line: string }).line)).toEqual(['qdisc del dev eth0 root', 'qdisc replace dev eth0 root handle 4d: netem delay 50ms loss 1%']);
    const tbf = applied(desired, (a) => a.qdiscs.set('eth0', { dev: 'eth0', kind: 'tbf', handle: '4d:', impair: { rate: 1e6 } }));
    expect(commandsOf(qdiscChanges(diff(desired, tbf))[0]!)).toHaveLength(2);
  });

  it('deletes a tbf or netem the file does not have, and leaves any other root qdisc alone', () => {
    const none = resolveLab(spec(undefined));
    const plan = diff(none, applied(desired));
    expect(lines(plan)).toEqual(['delete qdisc/a:eth0: netem delay 50ms, loss 1% on eth0 is not in the file']);
    expect(commandsOf(qdiscChanges(plan)[0]!)).toEqual([{ tool: 'tc', line: 'qdisc del dev eth0 root' }]);
    expect(lines(diff(none, applied(none, (a) => a.qdiscs.set('eth0', { dev: 'eth0', kind: 'htb', handle: '1:' }))))).toEqual([]);
  });

  it('sets it again on a link made again', () => {
    const plan = diff(desired, applied(desired, (a) => (a.links.get('eth0')!.type = 'other')));
    expect(lines(plan)).toEqual(['create qdisc/a:eth0: goes with eth0, made again; set again']);
  });

  describe('in the root namespace (kind host)', () => {
    const hostSpec = (impair?: Record<string, string>): LabSpec => ({ name: 'wan', nodes: { root: { kind: 'host', interfaces: { eth9: { addresses: ['192.0.2.1/24'], ...(impair ? { impair } : {}) } } } } });
    const machine = (fill: (n: NodeState) => void) => {
      const node = emptyNode('root', null, true, 'host');
      node.links.set('eth9', { name: 'eth9', type: 'other', addresses: [], up: true, master: null });
      node.links.set('eth8', { name: 'eth8', type: 'other', addresses: [], up: true, master: null });
      fill(node);
      return { lab: 'wan', nodes: new Map([['root', node]]) };
    };

    it("never touches the machine's own root qdiscs, and refuses an impair: on one", () => {
      const desiredHost = resolveLab(hostSpec({ rate: '10mbit' }));
      const theirs = machine((n) => n.qdiscs.set('eth8', { dev: 'eth8', kind: 'tbf', handle: '8001:', impair: { rate: 1e6 } }));
      expect(lines(diff(desiredHost, theirs))).toEqual(['create qdisc/root:eth9: tbf rate 10mbit on eth9 missing']);
      const clash = machine((n) => n.qdiscs.set('eth9', { dev: 'eth9', kind: 'htb', handle: '1:' }));
      expect(diff(desiredHost, clash).conflicts.map((c) => c.reason)).toEqual(["root qdisc htb 1: on root:eth9 is not the lab's — remove it (tc qdisc del dev eth9 root) or the impair: of eth9 from the file"]);
    });

    it('lists its qdiscs in the record, and deletes one once the file drops it', () => {
      const desiredHost = resolveLab(hostSpec({ rate: '10mbit' }));
      const before = machine(() => {});
      const during = recordBeforeRun(undefined, desiredHost, before, diff(desiredHost, before).changes, 'lab.yaml');
      expect(during.nodes.root!.objects).toEqual({ qdisc: ['eth9'] });
      const after = machine((n) => n.qdiscs.set('eth9', { dev: 'eth9', kind: 'tbf', handle: '4d:', impair: { rate: 10e6 } }));
      const record = recordAfterRun(during, desiredHost, after);
      const dropped = resolveLab(hostSpec());
      expect(lines(diff(dropped, after, { partial: partialOwnership(record) }))).toEqual(['delete qdisc/root:eth9: tbf rate 10mbit on eth9 is not in the file']);
      // Without the record's word a tbf with handle 4d: could be another lab's: it stays.
      expect(lines(diff(dropped, after))).toEqual([]);
    });
  });
});

describe('the views of impair:', () => {
  it('export writes a live netem back as impair:, and says so of a root qdisc impair: cannot hold', () => {
    const veth = (node: string, ifindex: number, peer: number) =>
      parseNode(node, node, { links: [{ ifindex, ifname: 'eth0', flags: ['UP'], linkinfo: { info_kind: 'veth' }, link_index: peer, link_netnsid: 0 }], routes4: [], routes6: [] });
    const [a, b] = [veth('a', 2, 3), veth('b', 3, 2)];
    a.qdiscs = parseQdiscs(JSON.stringify([NETEM_JSON]));
    b.qdiscs = new Map([['eth0', { dev: 'eth0', kind: 'htb', handle: '1:' }]]);
    const text = exportLab(
      [
        { netns: 'a', state: a, nsids: new Map([[0, 'b']]) },
        { netns: 'b', state: b, nsids: new Map([[0, 'a']]) },
      ],
      { exportedAt: new Date(0) },
    );
    expect((parseYaml(text) as LabSpec).nodes.a!.interfaces!.eth0!.impair).toEqual({ delay: '50ms', jitter: '5ms', loss: '1%', duplicate: '0.1%', reorder: '25%', corrupt: '0.1%', rate: '10mbit' });
    expect(text).toContain('# left out: eth0: root qdisc htb, which impair: cannot say');
  });

  it("graph labels a link with what its ends impair, once when both do the same", () => {
    const both = renderMermaid({ ...spec(undefined), links: [{ endpoints: ['a:eth0', 'b:eth0'], impair: { delay: '20ms', loss: '0.5%' } }] });
    expect(both).toContain('a:eth0 ↔ b:eth0 (delay 20ms, loss 0.5%)');
    expect(renderMermaid(spec({ rate: '10mbit' }))).toContain('a:eth0 ↔ b:eth0 (a:eth0 sends: rate 10mbit)');
  });
});

describe('the tc driver', () => {
  it("sends a namespace's qdisc changes to one tc -batch, and takes the line tc names as the one that failed", () => {
    const desired = resolveLab({ ...spec({ rate: '1mbit' }), nodes: { ...spec({ rate: '1mbit' }).nodes, b: { interfaces: { eth0: { addresses: ['192.0.2.2/24'], impair: { rate: '2mbit' } } } } } });
    const empty = { lab: 'wan', nodes: new Map([...desired.nodes].map(([n, st]) => [n, emptyNode(n, st.netns, false)])) };
    const changes = qdiscChanges(diff(desired, empty)).map((c) => ({ ...c, netns: 'a' })) as Change[];
    const job = tcDriver.prepare!({ scope: { tool: 'tc', netns: 'a' }, changes });
    expect(job.job).toMatchObject({ enter: '/run/netns/a', argv: ['tc', '-batch', '-'], input: 'qdisc replace dev eth0 root handle 4d: tbf rate 1mbit burst 3028 latency 50ms\nqdisc replace dev eth0 root handle 4d: tbf rate 2mbit burst 3028 latency 50ms\n' });
    const outcome = job.outcome({ exitCode: 1, stdout: '', stderr: 'Error: Exclusivity flag on, cannot modify.\nCommand failed -:2\n' });
    expect(outcome.done.map((c) => c.id)).toEqual([changes[0]!.id]);
    expect(outcome.failed.map((f) => f.change.id)).toEqual([changes[1]!.id]);
    expect(String(outcome.failed[0]!.error.message)).toContain('Exclusivity flag on');
  });
});

describe('throughput', () => {
  const check: ThroughputCheck = { kind: 'throughput', address: '192.0.2.2', port: 5201, server: { node: 'b', netns: 'b', port: 5201 }, rate: { min: 8e6, max: 12e6 } };
  const iperf = (json: unknown, exitCode = 0) => ({ exitCode, stdout: JSON.stringify(json), stderr: '' });

  it('judges the rate the server received against min and max', () => {
    expect(classifyThroughput(iperf({ end: { sum_sent: { bits_per_second: 11.7e6 }, sum_received: { bits_per_second: 9.56e6 } } }), check)).toEqual({ got: 'success', why: '9.56 mbit/s received' });
    expect(classifyThroughput(iperf({ end: { sum_received: { bits_per_second: 95.2e6 } } }), check)).toEqual({ got: 'fail', why: '95.2 mbit/s received, above the max 12mbit' });
    expect(classifyThroughput(iperf({ end: { sum_received: { bits_per_second: 1.2e6 } } }), check)).toEqual({ got: 'fail', why: '1.2 mbit/s received, below the min 8mbit' });
  });

  it('fails without a connection, and is an error when iperf3 cannot run', () => {
    expect(classifyThroughput(iperf({ start: {}, error: 'unable to connect to server: No route to host' }, 1), check)).toEqual({ got: 'fail', why: 'no throughput: No route to host' });
    expect(classifyThroughput({ exitCode: 127, stdout: '', stderr: 'nsenter: failed to execute iperf3: No such file or directory' }, check).why).toMatch(/apt-get install -y iperf3/);
  });
});
