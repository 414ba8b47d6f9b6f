// A fresh throwaway sandbox per measured run: a network + mount namespace held by `sleep
// infinity`, with tmpfs on /run (so /run/netns and netlab's /run/netlab start empty) and on
// /etc/netns. Every command goes in through nsenter; nothing touches this machine's own
// namespaces, and everything vanishes with the holder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

export interface SandboxOptions {
  /**
   * Also a PID namespace with its own /proc, a tmpfs /tmp and read-only /proc/sys/{kernel,fs}:
   * for Mininet, whose cleanup runs `killall`/`pkill` and `rm /tmp/*.log`, and whose startup
   * raises machine-wide sysctls (kernel.pty.max). Killing the holder then ends every process
   * Mininet left behind.
   */
  isolated?: boolean;
}

const SETUP = [
  'mount -t tmpfs -o mode=755 bench-run /run',
  'mkdir -p /run/netns /run/netlab',
  'mount -t tmpfs -o mode=755 bench-etc-netns /etc/netns',
  'ip link set lo up',
];
const ISOLATED_SETUP = [
  'mount -t tmpfs -o mode=1777 bench-tmp /tmp',
  ...['kernel', 'fs'].map((d) => `mount --bind /proc/sys/${d} /proc/sys/${d} && mount -o remount,bind,ro /proc/sys/${d}`),
];

/** A zombie counts as dead: its namespaces are already gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The sandboxes alive now, so that an interrupted bench can still kill them. */
const live = new Set<Sandbox>();

export class Sandbox {
  private constructor(
    private readonly holder: ChildProcess,
    /** The pid nsenter targets: the holder, or with a PID namespace its pid 1 (seen from here). */
    readonly pid: number,
    private readonly isolated: boolean,
  ) {}

  static async create(options: SandboxOptions = {}): Promise<Sandbox> {
    // The mount point must exist on the host before the private mount namespace can cover it.
    mkdirSync('/etc/netns', { recursive: true });
    const isolated = options.isolated ?? false;
    const flags = ['--net', '--mount', '--propagation', 'private'];
    if (isolated) flags.push('--pid', '--fork', '--kill-child', '--mount-proc');
    const script = [...SETUP, ...(isolated ? ISOLATED_SETUP : []), 'echo ready', 'exec sleep infinity'].join(' && ');
    const holder = spawn('unshare', [...flags, '--', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', (code) => reject(new Error(`sandbox did not start (exit ${code}): ${err.trim()}`)));
      holder.once('error', reject);
    });
    let pid = holder.pid!;
    if (isolated) {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
      pid = Number(children[0]);
      if (!pid) throw new Error('sandbox: no pid 1 under unshare --fork');
    }
    const sandbox = new Sandbox(holder, pid, isolated);
    live.add(sandbox);
    return sandbox;
  }

  /** Runs argv inside the sandbox and times it, from spawn to exit; never throws on a non-zero exit. */
  async run(argv: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
    const ns = ['--target', String(this.pid), '--net', '--mount', ...(this.isolated ? ['--pid'] : [])];
    const start = performance.now();
    const r = await execa('nsenter', [...ns, '--', ...argv], {
      input: options.input ?? '',
      reject: false,
      timeout: options.timeoutMs ?? 30 * 60_000,
      env: { NO_COLOR: '1', ...options.env },
    });
    const ms = performance.now() - start;
    return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout), stderr: String(r.stderr), ms, timedOut: r.timedOut };
  }

  /** Runs a shell snippet inside the sandbox and returns its stdout, throwing on failure. */
  async sh(script: string): Promise<string> {
    const r = await this.run(['sh', '-c', script], { timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(`in sandbox: ${script}: exit ${r.exitCode}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async dispose(): Promise<void> {
    live.delete(this);
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      const exited = new Promise((resolve) => this.holder.once('exit', resolve));
      this.holder.kill('SIGKILL');
      await exited;
    }
    // With a PID namespace, its pid 1 dies by --kill-child just after unshare: wait for it.
    for (let i = 0; this.isolated && alive(this.pid) && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
  }

  static async disposeAll(): Promise<void> {
    await Promise.all([...live].map((s) => s.dispose()));
  }
}
