// What proves a namespace, a link or a table is the lab's: never a number the kernel reuses, a
// flag a crashed run left behind, or a record file anyone can replace. Destroy takes only what
// the lab made; what it cannot prove is the lab's it leaves alone and names.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, useSandbox, type Result, type Sandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));
const scratch = mkdtempSync(join(tmpdir(), 'netlab-identity-'));

function labFile(name: string, text: string): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Two namespaces on one veth; `prefix` keeps two such labs apart. */
function pairLab(name: string, prefix = ''): string {
  return labFile(
    name,
    `name: ${name}\nprefix: "${prefix}"\nnodes:\n  a: {interfaces: {eth0: {addresses: [192.0.2.1/24]}}}\n  b: {interfaces: {eth0: {addresses: [192.0.2.2/24]}}}\nlinks:\n  - [a:eth0, b:eth0]\n`,
  );
}

const RECORD = (lab: string) => `/run/netlab/${lab}/record.json`;

async function record(lab: string): Promise<{ nodes: Record<string, Record<string, unknown>> }> {
  return JSON.parse(await sb.ok(['cat', RECORD(lab)])) as { nodes: Record<string, Record<string, unknown>> };
}

async function writeRecord(lab: string, value: unknown): Promise<void> {
  await sb.ok(['sh', '-c', `cat > ${RECORD(lab)}`], JSON.stringify(value));
}

async function namespaces(): Promise<string[]> {
  return (await sb.ok(['ls', '-A', '/run/netns'])).split(/\s+/).filter(Boolean).sort();
}

/** A process of the user's inside a namespace netlab must leave alone. */
async function userProcess(netns: string): Promise<number> {
  await sb.ok(['sh', '-c', `nsenter --net=/run/netns/${netns} sleep 4711 >/dev/null 2>&1 &`]);
  return Number((await sb.ok(['sh', '-c', 'for i in $(seq 50); do p=$(pgrep -n -f "^sleep 4711"); [ -n "$p" ] && echo $p && exit 0; sleep 0.1; done; exit 1'])).trim());
}

async function alive(pid: number): Promise<boolean> {
  return (await sb.run(['kill', '-0', String(pid)])).exitCode === 0;
}

async function loAlias(netns: string): Promise<string | undefined> {
  const [lo] = await sb.ipJson<Array<{ ifalias?: string }>>(netns, ['link', 'show', 'dev', 'lo']);
  return lo?.ifalias;
}

/** One line on stderr, no stack trace, no "internal error". */
function oneClearLine(r: Result, pattern: RegExp): void {
  expect(r.stderr).not.toMatch(/internal error|SyntaxError|\n\s+at /);
  const lines = r.stderr.split('\n').filter((l) => pattern.test(l));
  expect(lines, r.stderr).toHaveLength(1);
}

describe('a namespace is the lab\'s only when its mark says so', () => {
  // The record's id for the namespace (ip netns set) is checked with one process for all; a record
  // without one has lo's mark read in each namespace.
  for (const withId of [true, false]) {
    it(`a foreign namespace with the inode the record noted is a conflict; destroy leaves it and its process (record ${withId ? 'with' : 'without'} the namespace's id)`, async () => {
      const file = pairLab('idr');
      await sb.netlabOk('apply', file);
      await sb.ok(['ip', 'netns', 'del', 'a']);
      await sb.ok(['ip', 'netns', 'add', 'a']);
      // The kernel reuses namespace inodes; the record is made to name the new one, as reuse would.
      const inode = (await sb.ok(['stat', '-L', '-c', '%i', '/run/netns/a'])).trim();
      const rec = await record('idr');
      rec.nodes.a!.inode = inode;
      expect(rec.nodes.a!.nsid).toEqual(expect.any(Number));
      if (!withId) for (const node of Object.values(rec.nodes)) delete node.nsid;
      await writeRecord('idr', rec);
      const pid = await userProcess('a');

      const plan = await sb.netlab('plan', file);
      expect(plan.exitCode).toBe(1);
      expect(plan.stdout + plan.stderr).toMatch(/namespace a already exists and belongs to something other than netlab/);

      const destroy = await sb.netlab('destroy', 'idr');
      expect(destroy.stderr).toMatch(/left alone: namespace a already exists/);
      expect(await namespaces()).toEqual(['a']);
      expect(await alive(pid)).toBe(true);
      expect(await loAlias('a')).toBeUndefined();
    });
  }
});

describe('a crashed run adopts only the namespaces it made', () => {
  /** An `ip` that kills netlab (pid in /run/killme) once a batch that adds namespaces is through. */
  function killingIp(): string {
    const dir = mkdtempSync(join(scratch, 'bin-'));
    const wrapper = join(dir, 'ip');
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        'case "$*" in *-batch*) ;; *) exec /usr/sbin/ip "$@" ;; esac',
        'input=$(cat)',
        'printf "%s\\n" "$input" | /usr/sbin/ip "$@"; rc=$?',
        'case "$input" in *"netns add"*) [ -f /run/killme ] && kill -9 "$(cat /run/killme)" && rm -f /run/killme ;; esac',
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(wrapper, 0o755);
    return dir;
  }

  async function applyKilledAfterNetnsAdd(file: string): Promise<void> {
    const path = `${killingIp()}:${process.env.PATH}`;
    await sb.run(['sh', '-c', 'echo $$ > /run/killme; exec "$0" "$@"', process.execPath, CLI, 'apply', file], { env: { PATH: path } });
    expect(await namespaces()).toEqual(['a', 'b']);
    expect(await loAlias('a')).toBeUndefined();
  }

  it('its own unmarked namespaces: the next apply marks them and converges, destroy removes them', async () => {
    const file = pairLab('crt');
    await applyKilledAfterNetnsAdd(file);
    await sb.netlabOk('apply', file);
    expect(await loAlias('a')).toMatch(/^netlab:crt\b/);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect(await sb.ping('a', '192.0.2.2')).toBe(true);
    await sb.netlabOk('destroy', 'crt');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('a namespace made by hand in its place: destroy leaves it and its process, apply refuses it and does not mark it', async () => {
    const file = pairLab('crt');
    await applyKilledAfterNetnsAdd(file);
    await sb.ok(['ip', 'netns', 'del', 'a']);
    await sb.ok(['ip', 'netns', 'add', 'a']);
    const pid = await userProcess('a');

    const destroy = await sb.netlab('destroy', 'crt');
    expect(destroy.stderr).toMatch(/left alone: namespace a already exists/);
    expect(await namespaces()).toEqual(['a']);
    expect(await alive(pid)).toBe(true);

    const apply = await sb.netlab('apply', file);
    expect(apply.exitCode).toBe(1);
    expect(apply.stdout + apply.stderr).toMatch(/namespace a already exists and belongs to something other than netlab — delete it \(ip netns del a\)/);
    expect(await loAlias('a')).toBeUndefined();
    expect(await alive(pid)).toBe(true);
  });
});

describe('a record that is not the lab\'s own is not trusted', () => {
  it('a record replaced by a symlink to another lab\'s: destroy takes its own lab by the marks and leaves the other', async () => {
    await sb.netlabOk('apply', pairLab('ra', 'ra-'));
    await sb.netlabOk('apply', pairLab('rb', 'rb-'));
    await sb.ok(['ln', '-sf', '/run/netlab/rb/record.json', RECORD('ra')]);

    const destroy = await sb.netlab('destroy', 'ra');
    expect(destroy.exitCode, destroy.stderr).toBe(0);
    oneClearLine(destroy, /record \/run\/netlab\/ra\/record\.json is not a regular file \(a symlink\); ignoring it and using the kernel's marks/);
    expect(await namespaces()).toEqual(['rb-a', 'rb-b']);
    expect(await sb.ping('rb-a', '192.0.2.2')).toBe(true);
    await sb.netlabOk('destroy', 'rb');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('a record copied from another lab names that lab: ignored', async () => {
    await sb.netlabOk('apply', pairLab('ra', 'ra-'));
    await sb.netlabOk('apply', pairLab('rb', 'rb-'));
    await sb.ok(['cp', RECORD('rb'), RECORD('ra')]);
    const destroy = await sb.netlab('destroy', 'ra');
    expect(destroy.exitCode, destroy.stderr).toBe(0);
    oneClearLine(destroy, /record \/run\/netlab\/ra\/record\.json is lab rb's, not ra's; ignoring it/);
    expect(await namespaces()).toEqual(['rb-a', 'rb-b']);
  });

  for (const [what, content] of [
    ['empty', ''],
    ['truncated', '{"lab": "ra", "nodes": {"a": {"netns": "a", "ki'],
    ['not JSON', 'not json at all \u0000\u0001'],
    ['of the wrong shape', '{"lab": "ra", "nodes": [1, 2, 3]}'],
  ] as const) {
    it(`a record that is ${what}: plan, apply and destroy say so in one line, and destroy removes the lab`, async () => {
      const file = pairLab('ra');
      await sb.netlabOk('apply', file);
      const bad = /record \/run\/netlab\/ra\/record\.json (is empty|does not parse|is not a lab record)/;
      await sb.ok(['sh', '-c', `cat > ${RECORD('ra')}`], content);
      const plan = await sb.netlab('plan', '--detailed-exitcode', file);
      expect(plan.exitCode, plan.stderr).toBe(0);
      oneClearLine(plan, bad);
      await sb.ok(['sh', '-c', `cat > ${RECORD('ra')}`], content);
      const apply = await sb.netlab('apply', file);
      expect(apply.exitCode, apply.stderr).toBe(0);
      oneClearLine(apply, bad);
      await sb.ok(['sh', '-c', `cat > ${RECORD('ra')}`], content);
      const destroy = await sb.netlab('destroy', 'ra');
      expect(destroy.exitCode, destroy.stderr).toBe(0);
      oneClearLine(destroy, bad);
      expect(await sb.leftovers()).toEqual([]);
    });
  }

  it('a deleted record of a lab with a host node: destroy by name removes its marked host links, its table and its namespaces', async () => {
    const file = labFile(
      'cr',
      `name: cr
nodes:
  root:
    kind: host
    sysctls: {net.ipv4.ip_forward: 1}
    bridges: {crbr0: {addresses: [198.51.100.1/24]}}
    routes: [{to: 203.0.113.0/24, via: 198.51.100.2}]
    nat: [{type: masquerade, source: 198.51.100.0/24, out: "!crbr0"}]
  c1:
    interfaces: {eth0: {addresses: [198.51.100.2/24]}}
links:
  - [c1:eth0, root:crbr0]
`,
    );
    await sb.ok(['ip', 'link', 'add', 'mine0', 'type', 'bridge']);
    await sb.ok(['nft', 'add', 'table', 'inet', 'netlab-other']);
    try {
      await sb.netlabOk('apply', file);
      expect(await sb.ping('c1', '198.51.100.1')).toBe(true);
      await sb.ok(['rm', RECORD('cr')]);

      const destroy = await sb.netlab('destroy', 'cr');
      expect(destroy.exitCode, destroy.stderr).toBe(0);
      oneClearLine(destroy, /record \/run\/netlab\/cr\/record\.json is missing; using the kernel's marks/);
      const links = (JSON.parse(await sb.ok(['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname);
      expect(links.sort()).toEqual(['lo', 'mine0']);
      expect(await sb.run(['nft', 'list', 'table', 'inet', 'netlab-cr'])).toMatchObject({ exitCode: 1 });
      expect((await sb.run(['nft', 'list', 'table', 'inet', 'netlab-other'])).exitCode).toBe(0);
      expect(await namespaces()).toEqual([]);
      expect(await sb.leftovers()).toEqual(['links in the sandbox root: mine0']);
    } finally {
      await sb.run(['sh', '-c', 'ip link del mine0; nft delete table inet netlab-other; nft delete table inet netlab-cr; sysctl -qw net.ipv4.ip_forward=0; true']);
    }
  });
});

describe('a full /run/netlab', () => {
  async function fill(): Promise<void> {
    await sb.run(['sh', '-c', 'dd if=/dev/zero of=/run/netlab/filler bs=4k count=100 2>/dev/null; true']);
  }

  it('apply says what is full in one line and changes nothing; destroy still works', async () => {
    const file = pairLab('full');
    await sb.ok(['mount', '-t', 'tmpfs', '-o', 'size=16k', 'full', '/run/netlab']);
    try {
      await fill();
      const apply = await sb.netlab('apply', file);
      expect(apply.exitCode).toBe(1);
      oneClearLine(apply, /no space left on device.*\/run\/netlab/);
      expect(await namespaces()).toEqual([]);

      await sb.ok(['rm', '/run/netlab/filler']);
      await sb.netlabOk('apply', file);
      await fill();
      const destroy = await sb.netlab('destroy', 'full');
      expect(destroy.exitCode, destroy.stderr).toBe(0);
      expect(destroy.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(await namespaces()).toEqual([]);
    } finally {
      await sb.run(['umount', '/run/netlab']);
    }
  });
});
