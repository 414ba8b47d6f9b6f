// Namespaces the lab did not create: the machine's root namespace (kind host) and a process's own
// namespace (kind attach). The lab changes only what it makes there, and destroy takes only that.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Sandbox, TOPOLOGIES } from '../helpers/sandbox.js';

let sb: Sandbox;
const scratch = mkdtempSync(join(tmpdir(), 'netlab-existing-'));
beforeAll(async () => {
  sb = await Sandbox.create();
});
afterAll(async () => {
  await sb?.dispose();
});
afterEach(async () => {
  await sb.reset();
  await sb.run(['sh', '-c', 'pkill -f "^sleep 4242" ; ip link del pre0 ; nft delete table inet machine ; sysctl -qw net.ipv4.ip_forward=0 ; true']);
});

/** A "container": a process in a network namespace of its own, started outside netlab. */
async function startContainer(): Promise<number> {
  await sb.ok(['sh', '-c', 'unshare --net sleep 4242 >/dev/null 2>&1 &']);
  const pid = (await sb.ok(['sh', '-c', 'for i in $(seq 50); do p=$(pgrep -n -f "^sleep 4242"); [ -n "$p" ] && echo $p && exit 0; sleep 0.1; done; exit 1'])).trim();
  return Number(pid);
}

describe('kind: attach', () => {
  it('publishes a process namespace for ip netns, joins it to a bridge, and destroy leaves the process with only lo', async () => {
    const pid = await startContainer();
    // The lab as shipped, its pid from the environment: APP_PID=$! netlab apply ...
    const file = join(TOPOLOGIES, 'docker-container.yaml');
    expect((await sb.ok(['ip', 'netns', 'list'])).trim()).toBe('');

    const applied = await sb.run(['sh', '-c', `APP_PID=${pid} exec "$0" "$1" apply "$2"`, process.execPath, CLI, file]);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(await sb.ok(['ip', 'netns', 'list'])).toMatch(/^app\b/m);
    expect(await sb.ping('app', '172.17.0.1')).toBe(true);
    // The same namespace as the process's: its inode is the one /proc/PID/ns/net names.
    expect((await sb.ok(['stat', '-L', '-c', '%i', '/run/netns/app'])).trim()).toBe((await sb.ok(['stat', '-L', '-c', '%i', `/proc/${pid}/ns/net`])).trim());
    // exec runs inside, with the node's resolv.conf in place.
    const inside = await sb.netlab('exec', 'app', '--', 'sh', '-c', 'cat /etc/resolv.conf; ip -br addr show eth0; exit 7');
    expect(inside.exitCode).toBe(7);
    expect(inside.stdout).toMatch(/nameserver 172\.17\.0\.1/);
    expect(inside.stdout).toMatch(/172\.17\.0\.2\/16/);
    const status = await sb.netlab('status', '--var', `APP_PID=${pid}`, 'docker-container');
    expect(status.stdout).toMatch(/app \(attach, netns app\)/);
    expect(status.stdout).toMatch(/eth0 +veth +up +172\.17\.0\.2\/16 +\(peer host:app-eth0\)/);
    expect(status.stdout).toMatch(/matches/);
    expect((await sb.netlab('plan', '--var', `APP_PID=${pid}`, '--detailed-exitcode', file)).exitCode).toBe(0);
    // Without the variable: where the file needs it, and how to give it.
    const unset = await sb.netlab('plan', file);
    expect(unset.exitCode).toBe(65);
    expect(unset.stderr).toMatch(/docker-container\.yaml:\d+:10: error: variable APP_PID is not defined/);

    await sb.netlabOk('destroy', 'docker-container');
    expect((await sb.run(['kill', '-0', String(pid)])).exitCode).toBe(0);
    const links = JSON.parse(await sb.ok(['nsenter', '--target', String(pid), '--net', 'ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>;
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('refuses a pid that does not exist, a file that is not a namespace, and a namespace published under another name', async () => {
    const lab = (source: string) => {
      const file = join(scratch, 'bad-attach.yaml');
      writeFileSync(file, `name: bad-attach\nnodes:\n  app:\n    kind: attach\n    ${source}\n`);
      return file;
    };
    const noPid = await sb.netlab('apply', lab('pid: 999999'));
    expect(noPid.exitCode).toBe(1);
    expect(noPid.stderr).toMatch(/node app: no process 999999/);
    const notNs = await sb.netlab('apply', lab('path: /etc/hostname'));
    expect(notNs.stderr).toMatch(/\/etc\/hostname is not a network namespace/);
    const pid = await startContainer();
    await sb.ok(['ip', 'netns', 'attach', 'other', String(pid)]);
    const twice = await sb.netlab('apply', lab(`pid: ${pid}`));
    expect(twice.stderr).toMatch(/already published as \/run\/netns\/other/);
    await sb.ok(['ip', 'netns', 'del', 'other']);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('kind: host', () => {
  const lab = `
name: host-lab
nodes:
  root:
    kind: host
    sysctls: {net.ipv4.ip_forward: 1}
    interfaces:
      vroot: {addresses: [198.51.100.1/24]}
    routes:
      - {to: 10.30.0.0/16, via: 198.51.100.2}
    nat:
      - {type: masquerade, source: 198.51.100.0/24, out: pre0}
  c1:
    interfaces:
      eth0: {addresses: [198.51.100.2/24]}
    routes: [{to: default, via: 198.51.100.1}]
links:
  - [root:vroot, c1:eth0]
`;

  /** What the machine had before the lab: must read the same after apply and after destroy. */
  async function machine(): Promise<string> {
    const link = await sb.ok(['ip', '-j', 'link', 'show', 'dev', 'pre0']);
    const route = await sb.ok(['ip', '-j', 'route', 'show', '203.0.113.0/24']);
    const table = await sb.ok(['nft', '-j', 'list', 'table', 'inet', 'machine']);
    const stable = (json: string) => JSON.stringify(JSON.parse(json), (k, v) => (k === 'handle' || k === 'operstate' || k === 'flags' ? undefined : v));
    return [stable(link), stable(route), stable(table)].join('\n');
  }

  it("changes only what it makes in the root namespace, and puts the machine's sysctl back", async () => {
    await sb.ok(['sh', '-c', 'ip link add pre0 type veth peer name pre1 && ip link set pre0 up && ip route add 203.0.113.0/24 dev pre0 && nft add table inet machine && nft add chain inet machine c']);
    const before = await machine();
    const file = join(scratch, 'host.yaml');
    writeFileSync(file, lab);

    await sb.netlabOk('apply', file);
    expect(await sb.ping('c1', '198.51.100.1')).toBe(true);
    expect(await machine()).toBe(before);
    expect((await sb.ok(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim()).toBe('1');
    const [vroot] = JSON.parse(await sb.ok(['ip', '-j', 'link', 'show', 'dev', 'vroot'])) as Array<{ ifalias: string }>;
    expect(vroot!.ifalias).toBe('netlab:host-lab');
    expect(await sb.ok(['ip', 'route', 'show', '10.30.0.0/16'])).toMatch(/via 198\.51\.100\.2 dev vroot proto 77/);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);

    await sb.netlabOk('destroy', 'host-lab');
    expect(await machine()).toBe(before);
    expect((await sb.ok(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim()).toBe('0');
    expect((await sb.ok(['nft', 'list', 'tables'])).trim()).toBe('table inet machine');
    expect((await sb.run(['ip', 'link', 'show', 'vroot'])).exitCode).not.toBe(0);
    expect((await sb.ok(['ip', 'route', 'show', '10.30.0.0/16'])).trim()).toBe('');
  });

  it('refuses, changing nothing, when a link it would make exists and is not its own', async () => {
    await sb.ok(['ip', 'link', 'add', 'vroot', 'type', 'veth', 'peer', 'name', 'vroot-peer']);
    const file = join(scratch, 'host-conflict.yaml');
    writeFileSync(file, lab);
    const applied = await sb.netlab('apply', file);
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toMatch(/veth vroot already exists in node root and is not the lab's/);
    expect((await sb.ok(['ls', '/run/netns'])).trim()).toBe('');
    expect((await sb.ok(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim()).toBe('0');
    await sb.ok(['ip', 'link', 'del', 'vroot']);
    expect(await sb.leftovers()).toEqual([]);
  });
});

/** The dev:inode of the namespace a file or /proc/PID/ns/net names. */
async function namespaceId(path: string): Promise<string> {
  return (await sb.ok(['stat', '-L', '-c', '%d:%i', path])).trim();
}

/** Bind mounts at /run/netns/NAME, as /proc/self/mounts lists them. */
async function mountsAt(name: string): Promise<number> {
  return Number((await sb.ok(['sh', '-c', `grep -c " /run/netns/${name} " /proc/self/mounts || true`])).trim());
}

/** A hub bridge and an attach node joined to it: `where` is the node's pid: or path: line. */
function attachLab(lab: string, node: string, where: string): string {
  return `name: ${lab}
nodes:
  hub:
    bridges: {br0: {addresses: [198.51.100.1/24]}}
  ${node}:
    kind: attach
    ${where}
    interfaces: {eth7: {addresses: [198.51.100.7/24]}}
links:
  - [${node}:eth7, hub:br0]
`;
}

describe('kind: attach by path: a mount the lab did not make stays', () => {
  it('keeps a namespace made with ip netns add: destroy takes the lab\'s link and leaves the name and its mount', async () => {
    await sb.ok(['ip', 'netns', 'add', 'foo']);
    const before = await namespaceId('/run/netns/foo');
    const file = join(scratch, 'attach-user.yaml');
    writeFileSync(file, attachLab('attach-user', 'foo', 'path: /run/netns/foo'));

    await sb.netlabOk('apply', file);
    expect(await sb.ping('foo', '198.51.100.1')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    await sb.netlabOk('destroy', 'attach-user');

    expect(await namespaceId('/run/netns/foo')).toBe(before);
    expect(await mountsAt('foo')).toBe(1);
    expect((await sb.ipJson<Array<{ ifname: string }>>('foo', ['link', 'show'])).map((l) => l.ifname)).toEqual(['lo']);
    await sb.ok(['ip', 'netns', 'del', 'foo']);
    expect(await sb.leftovers()).toEqual([]);
  });

  it("keeps another lab's namespace: destroying the lab that attached it leaves the owner's lab whole", async () => {
    const owner = join(scratch, 'owner.yaml');
    writeFileSync(owner, 'name: owner\nnodes:\n  x: {interfaces: {eth0: {addresses: [203.0.113.1/24]}}}\n  y: {interfaces: {eth0: {addresses: [203.0.113.2/24]}}}\nlinks: [[x:eth0, y:eth0]]\n');
    await sb.netlabOk('apply', owner);
    const before = await namespaceId('/run/netns/x');
    const guest = join(scratch, 'guest.yaml');
    writeFileSync(guest, attachLab('guest', 'x', 'path: /run/netns/x'));

    await sb.netlabOk('apply', guest);
    expect(await sb.ping('x', '198.51.100.1')).toBe(true);
    await sb.netlabOk('destroy', 'guest');

    expect(await namespaceId('/run/netns/x')).toBe(before);
    expect((await sb.netlab('plan', '--detailed-exitcode', owner)).exitCode).toBe(0);
    expect(await sb.ping('x', '203.0.113.2')).toBe(true);
    await sb.netlabOk('destroy', 'owner');
    expect(await sb.leftovers()).toEqual([]);
  });
  it('refuses, changing nothing, when /run/netns/NAME is another namespace than the one to attach', async () => {
    const pid = await startContainer();
    await sb.ok(['ip', 'netns', 'add', 'ctr']);
    const before = await namespaceId('/run/netns/ctr');
    const file = join(scratch, 'attach-taken.yaml');
    writeFileSync(file, attachLab('attach-taken', 'ctr', `pid: ${pid}`));
    const applied = await sb.netlab('apply', file);
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toMatch(/\/run\/netns\/ctr is another namespace than \/proc\/\d+\/ns\/net/);
    expect(await namespaceId('/run/netns/ctr')).toBe(before);
    expect(await mountsAt('ctr')).toBe(1);
    await sb.ok(['ip', 'netns', 'del', 'ctr']);
    expect(await sb.leftovers()).toEqual([]);
  });
});

describe('a node that changes kind converges in one apply', () => {
  const ownLab = 'name: turn\nnodes:\n  hub:\n    bridges: {br0: {addresses: [198.51.100.1/24]}}\n  ctr:\n    interfaces: {eth7: {addresses: [198.51.100.7/24]}}\nlinks:\n  - [ctr:eth7, hub:br0]\n';

  it('netns → attach: the lab\'s own namespace goes, the process\'s is published and joined', async () => {
    const pid = await startContainer();
    const file = join(scratch, 'turn.yaml');
    writeFileSync(file, ownLab);
    await sb.netlabOk('apply', file);
    writeFileSync(file, attachLab('turn', 'ctr', `pid: ${pid}`));
    const planned = await sb.netlab('plan', file);
    expect(planned.stdout).toMatch(/- netns ctr/);
    expect(planned.stdout).not.toMatch(/conflict/);

    await sb.netlabOk('apply', file);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect(await namespaceId('/run/netns/ctr')).toBe(await namespaceId(`/proc/${pid}/ns/net`));
    expect(await sb.ping('ctr', '198.51.100.1')).toBe(true);
    await sb.netlabOk('destroy', 'turn');
    expect((await sb.run(['kill', '-0', String(pid)])).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('attach → netns: the lab unpublishes the process\'s namespace and makes its own', async () => {
    const pid = await startContainer();
    const file = join(scratch, 'turn.yaml');
    writeFileSync(file, attachLab('turn', 'ctr', `pid: ${pid}`));
    await sb.netlabOk('apply', file);
    writeFileSync(file, ownLab);
    const planned = await sb.netlab('plan', file);
    expect(planned.stdout).toMatch(/\+ netns ctr/);
    expect(planned.stdout).not.toMatch(/conflict/);

    await sb.netlabOk('apply', file);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect(await namespaceId('/run/netns/ctr')).not.toBe(await namespaceId(`/proc/${pid}/ns/net`));
    expect(await sb.ping('ctr', '198.51.100.1')).toBe(true);
    const links = JSON.parse(await sb.ok(['nsenter', '--target', String(pid), '--net', 'ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>;
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    await sb.netlabOk('destroy', 'turn');
    expect(await sb.leftovers()).toEqual([]);
  });
});
