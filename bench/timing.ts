// Medians, and waiting for the machine to go quiet between runs.
import { readFileSync } from 'node:fs';

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0); // idle + iowait
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the CPUs are mostly idle (or maxMs passes). A namespace is freed by the kernel
 * after `ip netns del` or the holder's death returns, in a workqueue: with 1000 veths that work
 * would otherwise land in the next measurement. False when the machine never went quiet.
 */
export async function settle(maxMs = 20_000, idleShare = 0.85, windowMs = 300): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const a = cpuTimes();
    await sleep(windowMs);
    const b = cpuTimes();
    if (b.total > a.total && (b.idle - a.idle) / (b.total - a.total) >= idleShare) return true;
  }
  return false; // something else keeps the machine busy: the numbers will be noisy
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}
