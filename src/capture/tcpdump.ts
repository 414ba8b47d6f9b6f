// tcpdump inside a node's namespace, as a process that never outlives netlab: it runs in a process
// group of its own, which netlab signals when it stops (Ctrl-C, SIGTERM, or its own end), and with
// a parent-death signal, so that the kernel kills it should netlab die without a word (SIGKILL).
import { spawn } from 'node:child_process';
import { enterPath } from '../kernel/runner.js';
import { UserError } from '../errors.js';

export interface CaptureRequest {
  /** The namespace file to enter (/run/netns/X, /proc/PID/ns/net); null: the root namespace. */
  nsPath: string | null;
  iface: string;
  filter?: string;
  count?: number;
  write?: string;
}

/** "host:eth0" → node and interface. */
export function parseNodeInterface(text: string): { node: string; iface: string } {
  const match = /^([^:\s]+):([^:\s]+)$/.exec(text);
  if (!match) throw new UserError(`${JSON.stringify(text)} is not NODE:INTERFACE (for example host:eth0)`);
  return { node: match[1]!, iface: match[2]! };
}

export function tcpdumpArgv(request: CaptureRequest): string[] {
  // -n: addresses as numbers (no DNS from inside a lab); -l: a line as soon as it is decoded;
  // -U: each packet written to the pcap at once, so a stopped capture leaves a whole file;
  // -Z root: tcpdump would otherwise give up root and fail to write where root may.
  const argv = ['tcpdump', '-i', request.iface, '-n', '-Z', 'root'];
  argv.push(...(request.write !== undefined ? ['-U', '-w', request.write] : ['-l']));
  if (request.count !== undefined) argv.push('-c', String(request.count));
  if (request.filter !== undefined && request.filter.trim() !== '') argv.push('--', request.filter);
  return enterPath(request.nsPath, ['setpriv', '--pdeathsig', 'KILL', ...argv]);
}

export interface CaptureIo {
  line(text: string): void;
  note(text: string): void;
}

/** Runs the capture until tcpdump ends (its count, an error) or a signal stops it; resolves with its exit code. */
export function runCapture(argv: readonly string[], io: CaptureIo, signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']): Promise<{ exitCode: number; stopped: boolean; stderr: string }> {
  const [file, ...args] = argv;
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stopped = false;
  let stderr = '';
  const stopGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  const onSignal = () => {
    stopped = true;
    // SIGINT: tcpdump stops as on a terminal's Ctrl-C, flushes the pcap and says what it captured.
    stopGroup('SIGINT');
  };
  const onExit = () => stopGroup('SIGKILL');
  for (const s of signals) process.on(s, onSignal);
  process.on('exit', onExit);
  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) io.line(l);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-8192);
    for (const l of text.split('\n').filter((x) => x.trim() !== '')) io.note(l);
  });
  return new Promise((resolve) => {
    const done = (exitCode: number) => {
      for (const s of signals) process.removeListener(s, onSignal);
      process.removeListener('exit', onExit);
      if (pending) io.line(pending);
      // Whatever tcpdump left in its group (nothing, normally) goes with it.
      stopGroup('SIGKILL');
      resolve({ exitCode, stopped, stderr });
    };
    child.once('error', (error) => done(error.message.includes('ENOENT') ? 127 : 1));
    child.once('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}
