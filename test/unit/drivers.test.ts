// How each tool's driver maps what its process (or call) said back to the changes of its batch.
// A fake runner answers; nothing is started and nothing outside the test is touched.
import { describe, expect, it } from 'vitest';
import { bridgeDriver } from '../../src/kernel/drivers/bridge.js';
import { fileDriver, type FileOps } from '../../src/kernel/drivers/file.js';
import { ipDriver } from '../../src/kernel/drivers/ip.js';
import { mountDriver } from '../../src/kernel/drivers/mount.js';
import { nftDriver } from '../../src/kernel/drivers/nft.js';
import { procDriver } from '../../src/kernel/drivers/proc.js';
import { sysctlDriver } from '../../src/kernel/drivers/sysctl.js';
import type { DriverContext } from '../../src/kernel/drivers/types.js';
import { READ_LINES } from '../../src/kernel/read.js';
import { DriverError } from '../../src/errors.js';
import type { Change } from '../../src/plan/change.js';
import { fakeRunner, type Answer } from '../helpers/fake-runner.js';

const address = (i: number): Change => ({ id: `address/c0:eth0/198.51.100.${i}/24`, kind: 'address', action: 'create', node: 'c0', netns: 'c0', dev: 'eth0', cidr: `198.51.100.${i}/24`, reason: 'missing' });
/** Two ip lines for one change. */
const loopback: Change = { id: 'loopback/c0', kind: 'loopback', action: 'create', node: 'c0', netns: 'c0', lab: 'demo', reason: 'down' };
const sysctl = (key: string, value = '1'): Change => ({ id: `sysctl/c0/${key}`, kind: 'sysctl', action: 'update', node: 'c0', netns: 'c0', key, value, reason: 'is 0' });
const dns = (node: string): Change => ({ id: `dns/${node}`, kind: 'dns', action: 'create', node, netns: node, content: 'nameserver 198.51.100.53\n', reason: 'missing' });

function context(answer?: Answer) {
  const runner = fakeRunner(answer);
  const logged: string[] = [];
  const ctx: DriverContext = { runner, concurrency: 2, log: { command: (_scope, text) => logged.push(text) } };
  return { runner, logged, ctx };
}

const failing = (stderr: string, exitCode = 1): Answer => () => ({ exitCode, stderr });
const ids = (changes: readonly Change[]) => changes.map((c) => c.id);

describe('bridge driver', () => {
  const entry = (mac: string): Change => ({ id: `fdb/sw:br0/${mac}`, kind: 'fdb', action: 'create', node: 'sw', netns: 'sw', entry: { dev: 'p1', mac, master: 'br0' }, reason: 'missing' });
  const bridgeIn = (changes: Change[]) => ({ scope: { tool: 'bridge' as const, netns: 'sw' }, changes });

  it('runs a batch as one `bridge -batch` in the namespace, a line per command', async () => {
    const { runner, logged, ctx } = context();
    const outcome = await bridgeDriver.run(bridgeIn([entry('02:00:00:00:00:01'), entry('02:00:00:00:00:02')]), ctx);
    expect(runner.calls).toEqual([{ argv: ['nsenter', '--net=/run/netns/sw', 'bridge', '-batch', '-'], input: 'fdb replace 02:00:00:00:00:01 dev p1 master static\nfdb replace 02:00:00:00:00:02 dev p1 master static\n' }]);
    expect(logged).toEqual(['fdb replace 02:00:00:00:00:01 dev p1 master static', 'fdb replace 02:00:00:00:00:02 dev p1 master static']);
    expect(ids(outcome.done)).toEqual([entry('02:00:00:00:00:01').id, entry('02:00:00:00:00:02').id]);
  });

  it('a failing line, named as ip names it, fails its change alone', async () => {
    const { ctx } = context(failing('RTNETLINK answers: Invalid argument\nCommand failed -:2\n', 255));
    const outcome = await bridgeDriver.run(bridgeIn([entry('02:00:00:00:00:01'), entry('02:00:00:00:00:02')]), ctx);
    expect(ids(outcome.done)).toEqual([entry('02:00:00:00:00:01').id]);
    const error = outcome.failed[0]!.error as DriverError;
    expect(error.argv).toEqual(['nsenter', '--net=/run/netns/sw', 'bridge', 'fdb replace 02:00:00:00:00:02 dev p1 master static']);
    expect(error.stderr).toBe('RTNETLINK answers: Invalid argument');
  });
});

describe('ip driver', () => {
  const ipIn = (changes: Change[], reads?: readonly string[]) => ({ scope: { tool: 'ip' as const, netns: 'c0' }, changes, ...(reads ? { reads } : {}) });

  it('runs a batch as one `ip -batch` in the namespace, a line per command', async () => {
    const { runner, logged, ctx } = context();
    const outcome = await ipDriver.run(ipIn([loopback, address(1)]), ctx);
    expect(runner.calls).toEqual([{ argv: ['nsenter', '--net=/run/netns/c0', 'ip', '-batch', '-'], input: 'link set dev lo up\nlink set dev lo alias netlab:demo\naddr replace 198.51.100.1/24 dev eth0\n' }]);
    expect(logged).toEqual(['link set dev lo up', 'link set dev lo alias netlab:demo', 'addr replace 198.51.100.1/24 dev eth0']);
    expect(outcome).toEqual({ done: [loopback, address(1)], failed: [] });
  });

  it('a line failing in the middle: the changes before it done, its own failed with that line, the rest left to run again', async () => {
    const { ctx } = context(failing('RTNETLINK answers: File exists\nCommand failed -:3\n', 2));
    const outcome = await ipDriver.run(ipIn([loopback, address(1), address(2)]), ctx);
    expect(ids(outcome.done)).toEqual([loopback.id]);
    expect(outcome.failed.map((f) => f.change.id)).toEqual([address(1).id]);
    const error = outcome.failed[0]!.error as DriverError;
    expect(error).toBeInstanceOf(DriverError);
    expect(error.argv).toEqual(['nsenter', '--net=/run/netns/c0', 'ip', 'addr replace 198.51.100.1/24 dev eth0']);
    expect(error.exitCode).toBe(2);
    expect(error.stderr).toBe('RTNETLINK answers: File exists');
    expect(error.input).toBeUndefined();
  });

  it('the second line of a change failing fails that change, not the one before', async () => {
    const { ctx } = context(failing('Error: argument is wrong\nCommand failed -:2\n'));
    const outcome = await ipDriver.run(ipIn([loopback, address(1)]), ctx);
    expect(outcome.done).toEqual([]);
    expect(outcome.failed.map((f) => f.change.id)).toEqual([loopback.id]);
  });

  it('with reads, ends the batch with them under -d -j and hands back what they printed', async () => {
    const { runner, logged, ctx } = context(() => ({ stdout: '[]\n[]\n[]\n[]\n' }));
    const outcome = await ipDriver.run(ipIn([address(1)], READ_LINES), ctx);
    expect(runner.calls[0]).toEqual({ argv: ['nsenter', '--net=/run/netns/c0', 'ip', '-d', '-j', '-batch', '-'], input: `addr replace 198.51.100.1/24 dev eth0\n${READ_LINES.join('\n')}\n` });
    expect(logged).toEqual(['addr replace 198.51.100.1/24 dev eth0']); // the reads are not the lab's commands
    expect(outcome).toEqual({ done: [address(1)], failed: [], readBack: '[]\n[]\n[]\n[]\n' });
  });

  it('a read failing after every change went through: all done, and nothing read back', async () => {
    const { ctx } = context(failing('Error: something\nCommand failed -:3\n'));
    const outcome = await ipDriver.run(ipIn([address(1), address(2)], READ_LINES), ctx);
    expect(outcome).toEqual({ done: [address(1), address(2)], failed: [] });
  });

  it('a batch failing without naming its line: every change failed, the error carrying the whole batch', async () => {
    const { ctx } = context(failing('nsenter: cannot open /run/netns/c0: No such file or directory\n'));
    const outcome = await ipDriver.run(ipIn([address(1), address(2)]), ctx);
    expect(outcome.done).toEqual([]);
    expect(outcome.failed.map((f) => f.change.id)).toEqual([address(1).id, address(2).id]);
    const error = outcome.failed[0]!.error as DriverError;
    expect(error.argv).toEqual(['nsenter', '--net=/run/netns/c0', 'ip', '-batch', '-']);
    expect(error.input).toBe('addr replace 198.51.100.1/24 dev eth0\naddr replace 198.51.100.2/24 dev eth0\n');
    expect(error.stderr).toContain('No such file');
  });

  it('runs the root namespace without nsenter', async () => {
    const { runner, ctx } = context();
    const netns: Change = { id: 'netns/c0', kind: 'netns', action: 'create', node: 'c0', netns: 'c0', reason: 'missing' };
    await ipDriver.run({ scope: { tool: 'ip', netns: null }, changes: [netns] }, ctx);
    expect(runner.calls).toEqual([{ argv: ['ip', '-batch', '-'], input: 'netns add c0\n' }]);
  });
});

describe('sysctl driver', () => {
  const forwarding = sysctl('net.ipv4.ip_forward');
  const rpFilter = sysctl('net.ipv4.conf.eth0.rp_filter', '2');
  const sysctlIn = (changes: Change[], reads?: readonly string[]) => ({ scope: { tool: 'sysctl' as const, netns: 'c0' }, changes, ...(reads ? { reads } : {}) });

  it('writes every key of the batch with one `sysctl -w`', async () => {
    const { runner, logged, ctx } = context();
    const outcome = await sysctlDriver.run(sysctlIn([forwarding, rpFilter]), ctx);
    expect(runner.calls).toEqual([{ argv: ['nsenter', '--net=/run/netns/c0', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.eth0.rp_filter=2'] }]);
    expect(logged).toEqual(['sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.eth0.rp_filter=2']);
    expect(outcome).toEqual({ done: [forwarding, rpFilter], failed: [] });
  });

  it('a partial write: only the key sysctl names failed, by its name or its /proc path', async () => {
    for (const stderr of ['sysctl: permission denied on key "net.ipv4.conf.eth0.rp_filter"\n', 'sysctl: cannot stat /proc/sys/net/ipv4/conf/eth0/rp_filter: No such file or directory\n']) {
      const { ctx } = context(failing(stderr, 255));
      const outcome = await sysctlDriver.run(sysctlIn([forwarding, rpFilter]), ctx);
      expect(ids(outcome.done)).toEqual([forwarding.id]);
      expect(outcome.failed.map((f) => f.change.id)).toEqual([rpFilter.id]);
      const error = outcome.failed[0]!.error as DriverError;
      expect([error.exitCode, error.stderr]).toEqual([255, stderr]);
    }
  });

  it('a failure naming no key fails every change of the batch', async () => {
    const { ctx } = context(failing('nsenter: cannot open /run/netns/c0: No such file or directory\n'));
    const outcome = await sysctlDriver.run(sysctlIn([forwarding, rpFilter]), ctx);
    expect(outcome.done).toEqual([]);
    expect(outcome.failed.map((f) => f.change.id)).toEqual([forwarding.id, rpFilter.id]);
  });

  it('reads back keys it writes in the same process, without -w, and hands back what sysctl printed', async () => {
    const { runner, ctx } = context(() => ({ stdout: 'net.ipv4.ip_forward = 1\n' }));
    const outcome = await sysctlDriver.run(sysctlIn([forwarding], ['net.ipv4.ip_forward']), ctx);
    expect(runner.calls[0]!.argv).toEqual(['nsenter', '--net=/run/netns/c0', 'sysctl', '-q', 'net.ipv4.ip_forward=1', 'net.ipv4.ip_forward']);
    expect(outcome.readBack).toBe('net.ipv4.ip_forward = 1\n');
  });

  it('a key to read that the batch does not write: a plain write, nothing read back', async () => {
    const { runner, ctx } = context();
    const outcome = await sysctlDriver.run(sysctlIn([forwarding], ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding']), ctx);
    expect(runner.calls[0]!.argv).toContain('-w');
    expect(outcome).toEqual({ done: [forwarding], failed: [] });
  });
});

describe('nft driver', () => {
  const table = (lab: string): Change => ({ id: `nftables/${lab}`, kind: 'nftables', action: 'delete', node: 'c0', netns: 'c0', lab, details: [], reason: 'not in the file' });

  it('a syntax error fails every change of the transaction, the error carrying the script', async () => {
    const stderr = '/dev/stdin:3:1-5: Error: syntax error, unexpected junk\n';
    const { runner, logged, ctx } = context(failing(stderr));
    const outcome = await nftDriver.run({ scope: { tool: 'nft', netns: 'c0' }, changes: [table('a'), table('b')] }, ctx);
    const script = 'table inet netlab-a {}\ndelete table inet netlab-a\ntable inet netlab-b {}\ndelete table inet netlab-b\n';
    expect(runner.calls).toEqual([{ argv: ['nsenter', '--net=/run/netns/c0', 'nft', '-f', '-'], input: script }]);
    expect(logged).toEqual([`nft -f - <<'EOF'\n${script}EOF`]);
    expect(outcome.done).toEqual([]);
    expect(outcome.failed.map((f) => f.change.id)).toEqual(['nftables/a', 'nftables/b']);
    const error = outcome.failed[0]!.error as DriverError;
    expect([error.input, error.stderr]).toEqual([script, stderr]);
  });

  it('applied whole: every change done', async () => {
    const { ctx } = context();
    expect(await nftDriver.run({ scope: { tool: 'nft', netns: 'c0' }, changes: [table('a')] }, ctx)).toEqual({ done: [table('a')], failed: [] });
  });
});

describe('file driver', () => {
  it('a file it cannot write fails that change alone; the others are still written', async () => {
    const written: string[] = [];
    const ops: FileOps = {
      async write(path) {
        if (path.includes('/c1/')) throw new Error(`EROFS: read-only file system, open '${path}'`);
        written.push(path);
      },
      async remove() {},
    };
    const { logged, ctx } = context();
    const outcome = await fileDriver(ops).run({ scope: { tool: 'file', netns: null }, changes: [dns('c0'), dns('c1'), dns('c2')] }, ctx);
    expect(ids(outcome.done)).toEqual(['dns/c0', 'dns/c2']);
    expect(outcome.failed.map((f) => [f.change.id, f.error.message])).toEqual([['dns/c1', "EROFS: read-only file system, open '/etc/netns/c1/resolv.conf'"]]);
    expect(written).toEqual(['/etc/netns/c0/resolv.conf', '/etc/netns/c2/resolv.conf']);
    expect(logged).toEqual(['write /etc/netns/c0/resolv.conf', 'write /etc/netns/c1/resolv.conf', 'write /etc/netns/c2/resolv.conf']);
  });
});

describe('mount and process drivers', () => {
  it('without the lab\'s record directory, publish and run fail their change with a message that says so', async () => {
    const { runner, ctx } = context();
    const publish: Change = { id: 'publish/h', kind: 'publish', action: 'create', node: 'h', netns: 'netlab-h', source: '/proc/1/ns/net', reason: 'missing' };
    const run: Change = { id: 'run/c0/web', kind: 'run', action: 'create', node: 'c0', netns: 'c0', key: 'web', command: 'sleep 1', nodeKind: 'netns', reason: 'missing' };
    const published = await mountDriver.run({ scope: { tool: 'mount', netns: null }, changes: [publish] }, ctx);
    expect(published.failed.map((f) => f.error.message)).toEqual(["publishing a namespace needs the lab's record directory"]);
    const started = await procDriver.run({ scope: { tool: 'proc', netns: null }, changes: [run] }, ctx);
    expect(started.failed.map((f) => f.error.message)).toEqual(["run commands need the lab's record directory"]);
    expect(runner.calls).toEqual([]);
  });

  it('leaves the processes of a namespace alone when it is not the one the plan proved the lab\'s', async () => {
    const { ctx } = context();
    const evict: Change = { id: 'processes/x', kind: 'processes', action: 'delete', node: 'x', netns: 'netlab-unit-absent', pids: [], inode: '1', reason: 'going' };
    const outcome = await procDriver.run({ scope: { tool: 'proc', netns: null }, changes: [evict] }, ctx);
    expect(outcome.done).toEqual([]);
    expect(outcome.failed.map((f) => f.error.message)).toEqual(["/run/netns/netlab-unit-absent is not the namespace the plan proved the lab's (inode none, not 1); its processes are left alone"]);
  });
});
