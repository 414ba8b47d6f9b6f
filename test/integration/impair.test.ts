// impair: and throughput tests against this machine's kernel, which has tbf but not netem: a
// 10mbit tbf on a link measures 8 to 12 mbit/s with iperf3, drifts and is repaired in place,
// goes when the file drops it; a ping test beside a throughput test is not measured in its queue
// (throughput runs last); in the root namespace netlab touches only its own qdiscs; and a
// netem lab is refused before anything is made. netem itself is proven in test/kernel-vm/.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FEATURES } from '../../src/model/features.js';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const hasNetem = spawnSync('unshare', ['--net', 'sh', '-c', `${FEATURES.netem.probe} 2>/dev/null`]).status === 0;

const shaped = (impair: string) => `name: shaped
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.1/24]}
  b:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
links:
  - endpoints: [a:eth0, b:eth0]
${impair}
tests:
  - {from: a, throughput: "b:5201", min: 8mbit, max: 12mbit}
  - {from: b, throughput: "a:5201", min: 20mbit}
`;

interface Qdisc {
  kind: string;
  handle: string;
  dev?: string;
  options: { rate?: number; burst?: number; lat?: number };
}

interface TestJson {
  results: Array<{ number: number; passed: boolean; got: string; why: string }>;
}

function labFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'netlab-impair-')), 'lab.yaml');
  writeFileSync(file, text);
  return file;
}

/** The interface's root qdisc; a down veth's (noop) tc does not list: then undefined. */
const rootQdisc = async (netns: string | null, dev: string): Promise<Qdisc | undefined> => {
  const argv = ['tc', '-j', 'qdisc', 'show', 'dev', dev];
  const out = netns === null ? await sb.ok(argv) : (await sb.inNs(netns, argv)).stdout;
  return (JSON.parse(out) as Qdisc[]).find((q) => (q as { root?: boolean }).root);
};

const ifindex = async (netns: string, dev: string) => (await sb.ipJson<Array<{ ifindex: number }>>(netns, ['link', 'show', 'dev', dev]))[0]!.ifindex;

describe('impair: rate alone, a tbf', () => {
  it('shapes a link to 10mbit, which iperf3 measures between 8 and 12 mbit/s; a min of 20mbit fails', async () => {
    const file = labFile(shaped('    impair: {rate: 10mbit}'));
    await sb.netlabOk('apply', file);
    for (const node of ['a', 'b']) expect(await rootQdisc(node, 'eth0')).toMatchObject({ kind: 'tbf', handle: '4d:', options: { rate: 1_250_000, burst: 12500, lat: 50000 } });

    const tested = await sb.netlab('test', '--json', file);
    expect(tested.exitCode, tested.stderr).toBe(1);
    const [pass, fail] = (JSON.parse(tested.stdout) as TestJson).results;
    expect(pass, JSON.stringify(pass)).toMatchObject({ number: 1, passed: true, got: 'success' });
    expect(fail, JSON.stringify(fail)).toMatchObject({ number: 2, passed: false, got: 'fail' });
    expect(fail!.why).toMatch(/^\d+(\.\d+)? mbit\/s received, below the min 20mbit$/);
    const measured = Number(/^([\d.]+) mbit\/s received$/.exec(pass!.why)![1]);
    expect(measured).toBeGreaterThanOrEqual(8);
    expect(measured).toBeLessThanOrEqual(12);
    // No iperf3 server outlives its test.
    expect((await sb.run(['pgrep', '-x', 'iperf3'])).exitCode).toBe(1);

    // The live tbf exports back as the file's impair:.
    const exported = parseYaml((await sb.netlabOk('export', 'a', 'b')).stdout) as { nodes: Record<string, { interfaces: Record<string, { impair?: unknown }> }> };
    for (const node of ['a', 'b']) expect(exported.nodes[node]!.interfaces.eth0!.impair).toEqual({ rate: '10mbit' });
  });

  it("runs a throughput test after the pings: a ping beside it would wait in the tbf's 50 ms queue", async () => {
    const file = labFile(
      shaped('    impair: {rate: 10mbit}')
        .replace(/tests:\n[\s\S]*$/, 'tests:\n  - {from: a, throughput: "b:5201", min: 8mbit, max: 12mbit}\n  - {from: a, ping: b, count: 20, rtt: {max: 10ms}}\n'),
    );
    await sb.netlabOk('apply', file);
    const tested = await sb.netlab('test', '--json', file);
    const results = (JSON.parse(tested.stdout) as TestJson).results;
    expect(tested.exitCode, JSON.stringify(results)).toBe(0);
    expect(results[1]!.why).toMatch(/^rtt median [\d.]+ ms/);
    await sb.netlabOk('destroy', file);
  });

  it('plans clean, shows a rate changed by hand, repairs it in place, deletes it when the file drops it', async () => {
    const file = labFile(shaped('    impair: {rate: 10mbit}'));
    await sb.netlabOk('apply', file);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    const status = JSON.parse((await sb.netlabOk('status', '--json', 'shaped')).stdout) as { labs: Array<{ nodes: Array<{ node: string; qdiscs: string[] }> }> };
    expect(status.labs[0]!.nodes.find((n) => n.node === 'a')!.qdiscs).toEqual(['eth0 tbf 4d: rate 10mbit']);

    const before = await ifindex('a', 'eth0');
    await sb.ok(['tc', '-n', 'a', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'handle', '4d:', 'tbf', 'rate', '20mbit', 'burst', '25000', 'latency', '50ms']);
    const plan = JSON.parse((await sb.netlab('plan', '--json', file)).stdout) as { changes: Array<{ kind: string; action: string; node: string; reason: string; commands: string[] }> };
    expect(plan.changes).toEqual([
      expect.objectContaining({ kind: 'qdisc', action: 'update', node: 'a', reason: expect.stringContaining('rate is 20mbit, the file says 10mbit'), commands: ['tc qdisc replace dev eth0 root handle 4d: tbf rate 10mbit burst 12500 latency 50ms'] }),
    ]);
    await sb.netlabOk('apply', file);
    expect(await rootQdisc('a', 'eth0')).toMatchObject({ kind: 'tbf', options: { rate: 1_250_000 } });
    expect(await ifindex('a', 'eth0')).toBe(before);

    // The script a student would type builds the same lab again: plan finds it clean.
    const script = (await sb.netlabOk('script', file)).stdout;
    expect(script).toContain('tc -n a qdisc replace dev eth0 root handle 4d: tbf rate 10mbit burst 12500 latency 50ms\n');
    await sb.netlabOk('destroy', file);
    const rebuilt = await sb.run(['sh', '-e', '-s'], { input: script });
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    const dropped = labFile(shaped(''));
    const removal = await sb.netlab('plan', dropped);
    expect(removal.stdout).toMatch(/- impair a:eth0: tbf rate 10mbit +tbf rate 10mbit on eth0 is not in the file/);
    await sb.netlabOk('apply', dropped);
    for (const node of ['a', 'b']) expect((await rootQdisc(node, 'eth0'))?.kind).toBe('noqueue');
    await sb.netlabOk('destroy', dropped);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('impair: in the root namespace (kind host)', () => {
  const hostLab = (impairBoth: boolean) => `name: hostshape
nodes:
  root:
    kind: host
    interfaces:
      h0: {impair: {rate: 5mbit}}
${impairBoth ? '      h1: {impair: {rate: 5mbit}}\n' : ''}`;

  it("changes only the qdisc it made, refuses to take over another's, and destroy takes only its own away", async () => {
    await sb.ok(['ip', 'link', 'add', 'h0', 'type', 'veth', 'peer', 'name', 'h1']);
    // Not the lab's: a tbf with another handle on h1.
    await sb.ok(['tc', 'qdisc', 'add', 'dev', 'h1', 'root', 'handle', '1:', 'tbf', 'rate', '1mbit', 'burst', '5000', 'latency', '50ms']);
    try {
      const file = labFile(hostLab(false));
      await sb.netlabOk('apply', file);
      expect(await rootQdisc(null, 'h0')).toMatchObject({ kind: 'tbf', handle: '4d:', options: { rate: 625_000 } });
      expect(await rootQdisc(null, 'h1')).toMatchObject({ kind: 'tbf', handle: '1:', options: { rate: 125_000 } });
      expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

      const clash = await sb.netlab('apply', labFile(hostLab(true)));
      expect(clash.exitCode).not.toBe(0);
      expect(clash.stderr + clash.stdout).toContain("root qdisc tbf 1: on root:h1 is not the lab's — remove it (tc qdisc del dev h1 root) or the impair: of h1 from the file");
      expect(await rootQdisc(null, 'h1')).toMatchObject({ handle: '1:', options: { rate: 125_000 } });

      await sb.netlabOk('destroy', file);
      expect((await rootQdisc(null, 'h0'))?.kind ?? 'noop').not.toBe('tbf');
      expect(await rootQdisc(null, 'h1')).toMatchObject({ kind: 'tbf', handle: '1:' });
    } finally {
      await sb.run(['ip', 'link', 'del', 'h0']);
    }
  });
});

describe.runIf(!hasNetem)('impair: netem on a kernel without it', () => {
  it('is valid, and plan and apply refuse it before anything is made, naming the interface, its keys and the module', async () => {
    const file = labFile(shaped('    impair: {delay: 50ms, loss: 1%}'));
    expect((await sb.netlab('validate', file)).exitCode).toBe(0);
    for (const command of ['plan', 'apply']) {
      const refused = await sb.netlab(command, file);
      expect(refused.exitCode, refused.stdout).toBe(1);
      expect(refused.stderr).toContain('a:eth0: impair delay, loss needs the netem queueing discipline (module sch_netem, CONFIG_NET_SCH_NETEM), which this kernel lacks');
      expect(refused.stderr).toContain('b:eth0: impair delay, loss needs');
    }
    expect(await sb.leftovers()).toEqual([]);
  });
});
