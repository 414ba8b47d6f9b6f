// tcpdump on every interface a trace crosses, for the time of its probe: each line labelled with
// the hop and interface, so the NAT rewrite shows as it happens. Each tcpdump runs with a
// parent-death signal and is stopped (SIGINT, then SIGKILL) when the probe is done.
import { spawn } from 'node:child_process';
import { netnsPath } from '../kernel/paths.js';
import type { LabState } from '../model/types.js';
import type { Hop, Trace } from '../trace/walk.js';
import { tcpdumpArgv } from './tcpdump.js';

export interface CapturePoint {
  /** "request 2 host:eth0 in". */
  label: string;
  node: string;
  iface: string;
}

/** Every interface the request crossed, in and out, once each, in hop order. */
export function capturePoints(trace: Trace): CapturePoint[] {
  const points: CapturePoint[] = [];
  const seen = new Set<string>();
  const add = (hop: Hop, n: number, iface: string | undefined, way: 'in' | 'out') => {
    if (!iface || seen.has(`${hop.node}:${iface}`)) return;
    seen.add(`${hop.node}:${iface}`);
    points.push({ label: `hop ${n} ${hop.node}:${iface} ${way}`, node: hop.node, iface });
  };
  trace.hops
    .filter((h) => h.direction === 'request')
    .forEach((hop, i) => {
      add(hop, i + 1, hop.iif, 'in');
      add(hop, i + 1, hop.egress?.dev, 'out');
    });
  return points;
}

/** The probe's packets only: its protocol (the ports may change on the way, by NAT). */
export function probeFilter(trace: Trace): string {
  const proto = trace.request.proto;
  if (proto === 'icmp') return trace.request.family === 6 ? 'icmp6 and ip6[40] < 130' : 'icmp';
  return proto;
}

const READY_MS = 2000;
const STOP_MS = 1000;

/** Runs `probe` with tcpdump at each point; resolves with its result and the labelled lines in time order. */
export async function withCaptures<T>(lab: LabState, points: readonly CapturePoint[], filter: string, probe: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: Array<{ time: string; text: string }> = [];
  const running = points.map((point) => {
    const netns = lab.nodes.get(point.node)?.netns ?? null;
    const argv = tcpdumpArgv({ nsPath: netns === null ? null : netnsPath(netns), iface: point.iface, filter });
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      const parts = (pending + text).split('\n');
      pending = parts.pop() ?? '';
      // An interrupted tcpdump ends its output with an empty line.
      for (const p of parts.filter((x) => x.trim() !== '')) lines.push({ time: p.split(' ')[0] ?? '', text: `[${point.label}] ${p}` });
    });
    const ready = new Promise<void>((resolve) => {
      let said = '';
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (text: string) => {
        said += text;
        if (said.includes('listening on')) resolve();
      });
      child.once('close', () => resolve());
      setTimeout(resolve, READY_MS);
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
      await closed;
      clearTimeout(timer);
    };
    return { ready, stop };
  });
  const stopAll = () => Promise.all(running.map((r) => r.stop()));
  try {
    await Promise.all(running.map((r) => r.ready));
    const result = await probe();
    // Packets still on their way when the probe ends: tcpdump is given a moment to print them.
    await new Promise((r) => setTimeout(r, 200));
    await stopAll();
    return { result, lines: [...lines].sort((a, b) => a.time.localeCompare(b.time)).map((l) => l.text) };
  } finally {
    await stopAll();
  }
}
