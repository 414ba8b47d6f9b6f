// kind: attach with container: NAME, against a real engine: Debian's docker.io. The test starts its
// own dockerd inside the sandbox (its network and mount namespace, its /run, a private socket, data
// and exec roots in a scratch directory, no docker0 and no iptables), so the daemon never sees this
// machine's network; makes an image from a busybox-static rootfs with `docker import` (no registry
// is reachable), runs two containers with --network none and joins them by name to a lab bridge.
// Cgroups are the one thing the sandbox cannot hide (cgroup v1 is machine-wide): the containers
// live under a cgroup parent named for this run, removed at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, Sandbox, TOPOLOGIES, type Result } from '../helpers/sandbox.js';

const LAB = join(TOPOLOGIES, 'docker-attach-by-name.yaml');
const IMAGE = 'netlab-busybox';
const CGROUP_PARENT = `netlab-test-docker-${process.pid}`;

/** Why the engine cannot be used here, or undefined: the tools docker.io and busybox-static install. */
function unavailable(): string | undefined {
  const check = spawnSync('sh', ['-c', 'command -v dockerd && command -v docker && command -v containerd && command -v runc && [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1'], { encoding: 'utf8' });
  return check.status === 0 ? undefined : 'docker.io or busybox-static is not installed (scripts/setup.sh installs them: apt-get install -y docker.io busybox-static)';
}

const why = unavailable();
if (why) console.warn(`docker.test.ts skipped: ${why}`);

/** The machine's own tables and links, read (never changed) before and after. */
function machineNetwork(): { tables: string; docker0: boolean } {
  const tables = spawnSync('nft', ['-j', 'list', 'tables'], { encoding: 'utf8' }).stdout;
  const docker0 = spawnSync('ip', ['link', 'show', 'dev', 'docker0'], { encoding: 'utf8' }).status === 0;
  return { tables, docker0 };
}

/** Our cgroup parent's directories in every hierarchy, deepest first (containers' below the parent). */
function cgroupDirs(): string[] {
  const found = spawnSync('find', ['/sys/fs/cgroup', '-depth', '-type', 'd', '-path', `*/${CGROUP_PARENT}*`], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean);
}

describe.skipIf(why !== undefined)('kind: attach, container: NAME, with docker', () => {
  let sb: Sandbox;
  let scratch: string;
  let before: ReturnType<typeof machineNetwork>;
  let env: Record<string, string>;

  const docker = (...args: string[]): Promise<Result> => sb.run(['docker', ...args], { env });
  const dockerOk = async (...args: string[]): Promise<string> => {
    const r = await docker(...args);
    if (r.exitCode !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  const netlab = (...args: string[]): Promise<Result> => sb.run([process.execPath, CLI, ...args], { env });
  const inode = async (path: string) => (await sb.ok(['stat', '-L', '-c', '%i', path])).trim();

  beforeAll(async () => {
    before = machineNetwork();
    scratch = mkdtempSync(join(tmpdir(), 'netlab-docker-'));
    env = { DOCKER_HOST: `unix://${scratch}/docker.sock`, DOCKER_CONFIG: `${scratch}/client` };
    sb = await Sandbox.create();
    // dockerd writes its key to /etc/docker/key.json: a tmpfs of the sandbox's takes it.
    await sb.ok(['mount', '-t', 'tmpfs', '-o', 'mode=755', 'sandbox-etc-docker', '/etc/docker']);
    const daemon = [
      'dockerd',
      `--data-root=${scratch}/data`,
      `--exec-root=${scratch}/exec`,
      `--pidfile=${scratch}/dockerd.pid`,
      `--host=${env.DOCKER_HOST}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      `--cgroup-parent=${CGROUP_PARENT}`,
    ].join(' ');
    // In the background, its output in a file: the sandbox's PID 1 adopts it, and ends it if the test cannot.
    await sb.ok(['sh', '-c', `${daemon} >${scratch}/dockerd.log 2>&1 &`]);
    const up = await sb.run(['sh', '-c', 'for i in $(seq 200); do docker info >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1'], { env });
    if (up.exitCode !== 0) throw new Error(`dockerd did not answer within 20 s:\n${readFileSync(`${scratch}/dockerd.log`, 'utf8').slice(-2000)}`);
    // An image of busybox alone: sh, sleep and ping are enough for these containers.
    const rootfs = `${scratch}/rootfs`;
    await sb.ok(['sh', '-c', `mkdir -p ${rootfs}/bin && cp /bin/busybox ${rootfs}/bin/ && for t in sh sleep ping ip; do ln -s busybox ${rootfs}/bin/$t; done`]);
    const imported = await sb.run(['sh', '-c', `tar -C ${rootfs} -c . | docker import - ${IMAGE}`], { env });
    if (imported.exitCode !== 0) throw new Error(`docker import: ${imported.stderr}`);
    for (const name of ['c1', 'c2']) await dockerOk('run', '-d', '--name', name, '--network', 'none', IMAGE, 'sleep', '1000');
  });

  afterAll(async () => {
    // Whatever the tests left: the sandbox's end stops dockerd and the containers with it.
    await sb?.dispose();
    for (let attempt = 0; attempt < 20 && cgroupDirs().length > 0; attempt++) {
      for (const dir of cgroupDirs()) await rmdir(dir).catch(() => undefined);
      if (cgroupDirs().length > 0) await new Promise((r) => setTimeout(r, 100));
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('attaches two containers by name to a bridge: they ping each other, and ip netns sees them', async () => {
    const pids = { c1: await dockerOk('inspect', '--format', '{{.State.Pid}}', 'c1'), c2: await dockerOk('inspect', '--format', '{{.State.Pid}}', 'c2') };
    const linksOf = async (pid: string) => (JSON.parse(await sb.ok(['nsenter', '--target', pid, '--net', 'ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname);
    // --network none: nothing but lo, as docker leaves it.
    expect(await linksOf(pids.c1)).toEqual(['lo']);

    const plan = await netlab('plan', LAB);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`/proc/${pids.c1}/ns/net`);
    const apply = await netlab('apply', LAB);
    expect(apply.exitCode, `${apply.stdout}\n${apply.stderr}`).toBe(0);

    // Seed 003: ip netns lists the containers' namespaces, the very ones docker made.
    expect((await sb.ok(['ip', 'netns', 'list'])).split('\n').map((l) => l.split(' ')[0]).filter(Boolean).sort()).toEqual(['c1', 'c2', 'host']);
    expect(await inode('/run/netns/c1')).toBe(await inode(`/proc/${pids.c1}/ns/net`));
    expect(await inode('/run/netns/c2')).toBe(await inode(`/proc/${pids.c2}/ns/net`));
    // Seed 002: both containers' eth0 peers are ports of the bridge, and traffic crosses it.
    const ports = await sb.ipJson<Array<{ ifname: string }>>('host', ['link', 'show', 'master', 'docker0']);
    expect(ports.map((p) => p.ifname).sort()).toEqual(['c1-eth0', 'c2-eth0']);
    const inside = await docker('exec', 'c1', 'ping', '-c', '1', '-W', '3', '172.17.0.3');
    expect(inside.exitCode, inside.stdout + inside.stderr).toBe(0);
    expect(await sb.ping('c2', '172.17.0.1')).toBe(true);
    const tests = await netlab('test', LAB);
    expect(tests.exitCode, tests.stdout + tests.stderr).toBe(0);
    expect((await netlab('plan', '--detailed-exitcode', LAB)).exitCode).toBe(0);

    const destroy = await netlab('destroy', LAB);
    expect(destroy.exitCode, destroy.stderr).toBe(0);
    // The containers keep running, with only lo again; nothing of the lab is left.
    expect(await dockerOk('inspect', '--format', '{{.State.Running}}', 'c1', 'c2')).toBe('true\ntrue');
    expect(await linksOf(pids.c1)).toEqual(['lo']);
    expect(await linksOf(pids.c2)).toEqual(['lo']);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('netlab script builds the same lab, asking docker for the pids when it runs', async () => {
    const script = await netlab('script', LAB);
    expect(script.exitCode, script.stderr).toBe(0);
    const ran = await sb.run(['sh', '-e', '-s'], { input: script.stdout, env });
    expect(ran.exitCode, ran.stderr).toBe(0);
    const inside = await docker('exec', 'c2', 'ping', '-c', '1', '-W', '3', '172.17.0.2');
    expect(inside.exitCode, inside.stdout + inside.stderr).toBe(0);
    expect((await netlab('plan', '--detailed-exitcode', LAB)).exitCode).toBe(0);
    expect((await netlab('destroy', LAB)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('refuses a container no engine has running, naming it and the engines asked; nothing is changed', async () => {
    await dockerOk('create', '--name', 'stopped', '--network', 'none', IMAGE, 'sleep', '1000');
    const file = join(scratch, 'missing.yaml');
    writeFileSync(file, ['name: missing', 'nodes:', '  a: {kind: attach, container: nope}', '  b: {kind: attach, container: stopped}', '  c: {}', 'links: [[a:eth0, c:eth0]]', ''].join('\n'));
    const r = await netlab('apply', file);
    expect(r.exitCode).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error: node a: no running container nope \(asked docker, podman, nerdctl — docker: No such container: nope[;)]/);
    expect(lines[1]).toMatch(/^node b: no running container stopped \(.*docker: it is not running \(pid 0\)/);
    expect(lines.at(-1)).toBe('nothing was changed');
    expect(r.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(await sb.leftovers()).toEqual([]);
    await dockerOk('rm', 'stopped');
  });

  it('a container removed after apply: status says it cannot compare, destroy still takes the lab away', async () => {
    await dockerOk('run', '-d', '--name', 'c3', '--network', 'none', IMAGE, 'sleep', '1000');
    const file = join(scratch, 'gone.yaml');
    writeFileSync(file, ['name: gone', 'nodes:', '  a: {kind: attach, container: c3}', '  b: {}', 'links: [[a:eth0, b:eth0]]', ''].join('\n'));
    expect((await netlab('apply', file)).exitCode).toBe(0);
    await dockerOk('rm', '-f', 'c3');
    const status = await netlab('status', 'gone');
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/\(differences unknown: node a: no running container c3 /);
    const destroy = await netlab('destroy', file);
    expect(destroy.exitCode, destroy.stderr).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('stops everything it started: no container, no daemon, no docker0, no iptables table, no mount', async () => {
    await dockerOk('rm', '-f', 'c1', 'c2');
    expect(await dockerOk('ps', '-aq')).toBe('');
    const pid = readFileSync(`${scratch}/dockerd.pid`, 'utf8').trim();
    await sb.ok(['kill', '-TERM', pid]);
    // Stopped: gone, or a zombie (the sandbox's PID 1, a sleep, reaps no one).
    const stopped = `! [ -e /proc/${pid} ] || grep -q '^State:.*Z' /proc/${pid}/status`;
    const gone = await sb.run(['sh', '-c', `for i in $(seq 150); do ${stopped} && exit 0; sleep 0.1; done; exit 1`]);
    expect(gone.exitCode, 'dockerd did not stop within 15 s').toBe(0);
    // dockerd unmounts its layers as it stops; none of its mounts, nor a docker0 or a table, is left in the sandbox.
    expect((await sb.ok(['sh', '-c', `grep -c ${scratch} /proc/self/mounts || true`])).trim()).toBe('0');
    expect((await sb.run(['ip', 'link', 'show', 'dev', 'docker0'])).exitCode).not.toBe(0);
    expect(JSON.parse(await sb.ok(['nft', '-j', 'list', 'tables'])).nftables.filter((e: Record<string, unknown>) => 'table' in e)).toEqual([]);
    expect(await sb.leftovers()).toEqual([]);

    await sb.dispose();
    for (const dir of cgroupDirs()) await rmdir(dir);
    expect(cgroupDirs()).toEqual([]);
    rmSync(scratch, { recursive: true, force: true });
    expect(existsSync(scratch)).toBe(false);
    // And the machine's own network is as it was.
    expect(machineNetwork()).toEqual(before);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(scratch);
  });
});
