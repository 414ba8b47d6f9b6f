// A throwaway network + mount + PID namespace for kernel tests. Everything a test runs goes through
// nsenter into it, so nothing reaches this machine's own namespaces: /run (hence /run/netns and
// netlab's records under /run/netlab) and /etc/netns are fresh tmpfs mounts inside it, /proc shows
// only its processes, and when its first process ends the kernel ends every other one with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll } from 'vitest';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const TOPOLOGIES = fileURLToPath(new URL('../../topologies/', import.meta.url));

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const SETUP = [
  'mount -t tmpfs -o mode=755 sandbox-run /run',
  'mkdir -p /run/netns /run/netlab',
  'mount -t tmpfs -o mode=755 sandbox-etc-netns /etc/netns',
  'ip link set lo up',
  'echo ready',
  'exec sleep infinity',
].join(' && ');

export class Sandbox {
  static async create(): Promise<Sandbox> {
    if (process.getuid?.() !== 0) {
      throw new Error('kernel tests need root: they make network namespaces in a sandbox (run `sudo npm test`)');
    }
    // The mount point must exist before the private mount namespace can cover it.
    mkdirSync('/etc/netns', { recursive: true });
    const holder = spawn('unshare', ['--net', '--mount', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--', 'sh', '-c', SETUP], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`sandbox did not start (exit ${code}): ${err}`)));
    });
    // unshare forks: its child is the sandbox's PID 1, whose namespaces the tests enter.
    const children = readFileSync(`/proc/${holder.pid}/task/${holder.pid}/children`, 'utf8').trim();
    return new Sandbox(holder, Number(children.split(' ')[0]));
  }

  private constructor(
    private readonly holder: ChildProcess,
    readonly pid: number,
  ) {}

  /** Runs argv inside the sandbox; never throws on a non-zero exit. */
  async run(argv: string[], options: { input?: string; timeout?: number; env?: Record<string, string> } = {}): Promise<Result> {
    const r = await execa('nsenter', ['--target', String(this.pid), '--net', '--mount', '--pid', '--', ...argv], {
      input: options.input ?? '',
      reject: false,
      timeout: options.timeout ?? 60_000,
      env: { NO_COLOR: '1', ...options.env },
    });
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** Runs argv and fails the test with its output when it exits non-zero. */
  async ok(argv: string[], input?: string): Promise<string> {
    const r = await this.run(argv, { input });
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  netlab(...args: string[]): Promise<Result> {
    return this.run([process.execPath, CLI, ...args]);
  }

  /** netlab that must succeed: a failure carries its output into the test's report. */
  async netlabOk(...args: string[]): Promise<Result> {
    const r = await this.netlab(...args);
    if (r.exitCode !== 0) throw new Error(`netlab ${args.join(' ')} exited ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** Runs argv inside one of the sandbox's lab namespaces. */
  inNs(netns: string, argv: string[]): Promise<Result> {
    return this.run(['nsenter', `--net=/run/netns/${netns}`, ...argv]);
  }

  /**
   * One echo answered within the deadline. A veth passes traffic only once the kernel's link
   * watcher has seen its carrier (up to a second after `up`), so a single 1 s try would be flaky.
   */
  async ping(fromNetns: string, address: string, deadlineSeconds = 3): Promise<boolean> {
    const r = await this.inNs(fromNetns, ['ping', '-c', '1', '-w', String(deadlineSeconds), address]);
    return r.exitCode === 0;
  }

  async ipJson<T = Array<Record<string, unknown>>>(netns: string, args: string[]): Promise<T> {
    const r = await this.inNs(netns, ['ip', '-j', ...args]);
    if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')} in ${netns}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** What is left of any lab: namespaces, records, /etc/netns entries, links in the sandbox root. */
  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    const ns = (await this.ok(['ls', '-A', '/run/netns'])).trim();
    if (ns) left.push(`namespaces: ${ns}`);
    const records = (await this.ok(['ls', '-A', '/run/netlab'])).trim();
    if (records) left.push(`records: ${records}`);
    const etc = (await this.ok(['ls', '-A', '/etc/netns'])).trim();
    if (etc) left.push(`/etc/netns: ${etc}`);
    const links = (JSON.parse(await this.ok(['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n !== 'lo');
    if (links.length) left.push(`links in the sandbox root: ${links.join(' ')}`);
    const mounts = (await this.ok(['sh', '-c', 'grep -c " /run/netns/" /proc/self/mounts || true'])).trim();
    if (mounts !== '0') left.push(`mounts under /run/netns: ${mounts}`);
    return left;
  }

  /** Back to empty, whatever a test left: processes, records, namespaces, /etc/netns entries. */
  async reset(): Promise<void> {
    // Every process but the sandbox's PID 1 and this shell: listeners, run: commands, "containers".
    await this.run(['sh', '-c', 'for p in $(ls /proc | grep -E "^[0-9]+$"); do [ "$p" = 1 ] || [ "$p" = $$ ] || kill -9 "$p" 2>/dev/null; done; for n in $(ls /run/netns); do ip netns del "$n"; done; rm -rf /run/netlab/* /etc/netns/*; true']);
  }

  async dispose(): Promise<void> {
    if (this.holder.exitCode !== null) return;
    const exited = new Promise((resolve) => this.holder.once('exit', resolve));
    // The sandbox's PID 1 going ends every process inside it, whatever a test left running.
    process.kill(this.pid, 'SIGKILL');
    await exited;
  }
}

/**
 * One sandbox for a test file: made before its tests, emptied after each (a failed test must not
 * leave its lab to the next one), ended after all. `bind` receives it for the file's tests.
 */
export function useSandbox(bind: (sb: Sandbox) => void): void {
  let sb: Sandbox | undefined;
  beforeAll(async () => {
    sb = await Sandbox.create();
    bind(sb);
  });
  afterAll(async () => {
    await sb?.dispose();
  });
  afterEach(async () => {
    await sb?.reset();
  });
}
