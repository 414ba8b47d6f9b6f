// kill -9 at the exact steps where one change is two writes: a run: process started before its run
// file says which it is; /run/netns/<name> made before the namespace is mounted on it (and the
// mount gone before the file); a resolv.conf removed before its directory. The run is killed there
// by the test-only hook NETLAB_CRASH_AT (src/kernel/crash-point.ts): deterministic, where a timed
// kill or a count of syscalls would hit a different step on another machine or Node version. The
// next run must converge: apply to the file, destroy to nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));
const scratch = mkdtempSync(join(tmpdir(), 'netlab-crash-points-'));

function labFile(name: string, text: string): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** netlab killed at `point`: its exit status, 137 when the hook fired. */
async function crashedAt(point: string, ...args: string[]): Promise<string> {
  const r = await sb.run(['sh', '-c', '"$0" "$@" >/dev/null 2>&1; echo "exit $?"', process.execPath, CLI, ...args], { env: { NETLAB_CRASH_AT: point } });
  return r.stdout.trim();
}

const count = async (pattern: string) => Number((await sb.run(['pgrep', '-c', '-f', pattern])).stdout.trim() || '0');

describe('killed between starting a run: process and writing its run file', () => {
  const labs = {
    'in a netns node': { name: 'crash-run', sleep: '^sleep 5101', text: 'name: crash-run\nnodes:\n  a:\n    interfaces: {eth0: {addresses: [198.51.100.1/24]}}\n    run: ["exec sleep 5101"]\n  b:\n    interfaces: {eth0: {addresses: [198.51.100.2/24]}}\nlinks: [[a:eth0, b:eth0]]\n' },
    'in the host node': { name: 'crash-run-host', sleep: '^sleep 5102', text: 'name: crash-run-host\nnodes:\n  root:\n    kind: host\n    run: ["exec sleep 5102"]\n' },
  };
  for (const [where, lab] of Object.entries(labs)) {
    it(`${where}: the next apply keeps the one copy, destroy ends it`, async () => {
      const file = labFile(lab.name, lab.text);
      expect(await crashedAt('run-started', 'apply', file)).toBe('exit 137');
      expect(await count(lab.sleep)).toBe(1);

      await sb.netlabOk('apply', file);
      expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
      expect(await count(lab.sleep)).toBe(1);
      await sb.netlabOk('destroy', lab.name);
      expect(await count(lab.sleep)).toBe(0);
      expect(await sb.leftovers()).toEqual([]);
    });
  }
});

describe('killed between the publish mount and its file', () => {
  async function startContainer(): Promise<number> {
    await sb.ok(['sh', '-c', 'unshare --net sleep 4343 >/dev/null 2>&1 &']);
    return Number((await sb.ok(['sh', '-c', 'for i in $(seq 50); do p=$(pgrep -n -f "^sleep 4343"); [ -n "$p" ] && echo $p && exit 0; sleep 0.1; done; exit 1'])).trim());
  }
  const lab = (pid: number) =>
    `name: crash-publish\nnodes:\n  hub:\n    bridges: {br0: {addresses: [198.51.100.1/24]}}\n  ctr:\n    kind: attach\n    pid: ${pid}\n    interfaces: {eth7: {addresses: [198.51.100.7/24]}}\nlinks:\n  - [ctr:eth7, hub:br0]\n`;
  /** What is at /run/netns/ctr: "empty file", "mounted" or "nothing". */
  const target = async () => (await sb.ok(['sh', '-c', 'if grep -q " /run/netns/ctr " /proc/self/mounts; then echo mounted; elif [ -f /run/netns/ctr ]; then echo "$(stat -c %s /run/netns/ctr)-byte file"; else echo nothing; fi'])).trim();

  it('made the file, not the mount: destroy removes the file, apply publishes; unmounted, not removed: destroy removes it', async () => {
    const pid = await startContainer();
    const file = labFile('crash-publish', lab(pid));
    expect(await crashedAt('publish-file-made', 'apply', file)).toBe('exit 137');
    expect(await target()).toBe('0-byte file');
    await sb.netlabOk('destroy', 'crash-publish');
    expect(await sb.leftovers()).toEqual([]);

    expect(await crashedAt('publish-file-made', 'apply', file)).toBe('exit 137');
    await sb.netlabOk('apply', file);
    expect(await target()).toBe('mounted');
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect(await sb.ping('ctr', '198.51.100.1')).toBe(true);

    expect(await crashedAt('unpublish-unmounted', 'destroy', 'crash-publish')).toBe('exit 137');
    expect(await target()).toBe('0-byte file');
    await sb.netlabOk('destroy', 'crash-publish');
    expect(await sb.leftovers()).toEqual([]);
    expect((await sb.run(['kill', '-0', String(pid)])).exitCode).toBe(0);
  });
});

describe('killed between removing a resolv.conf and its directory', () => {
  const withDns = 'name: crash-dns\nnodes:\n  a:\n    interfaces: {eth0: {addresses: [198.51.100.1/24]}}\n    dns: {nameservers: [198.51.100.2]}\n  b:\n    interfaces: {eth0: {addresses: [198.51.100.2/24]}}\nlinks: [[a:eth0, b:eth0]]\n';

  it('in destroy: the next destroy removes the directory', async () => {
    const file = labFile('crash-dns', withDns);
    await sb.netlabOk('apply', file);
    expect(await crashedAt('resolv-conf-removed', 'destroy', 'crash-dns')).toBe('exit 137');
    expect((await sb.ok(['ls', '-A', '/etc/netns'])).trim()).toBe('a');
    await sb.netlabOk('destroy', 'crash-dns');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('in destroy after the namespace went: the next destroy removes the resolv.conf it left', async () => {
    const file = labFile('crash-dns', withDns);
    await sb.netlabOk('apply', file);
    // What a destroy killed after `ip netns del a` and before the resolv.conf's removal leaves.
    await sb.ok(['ip', 'netns', 'del', 'a']);
    await sb.netlabOk('destroy', 'crash-dns');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('in apply (dns taken out of the file): the next apply removes the directory', async () => {
    const file = labFile('crash-dns', withDns);
    await sb.netlabOk('apply', file);
    writeFileSync(file, withDns.replace('    dns: {nameservers: [198.51.100.2]}\n', ''));
    expect(await crashedAt('resolv-conf-removed', 'apply', file)).toBe('exit 137');
    await sb.netlabOk('apply', file);
    expect((await sb.ok(['ls', '-A', '/etc/netns'])).trim()).toBe('');
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    await sb.netlabOk('destroy', 'crash-dns');
    expect(await sb.leftovers()).toEqual([]);
  });
});
