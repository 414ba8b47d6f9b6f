// What the lane's tests read from a VM run: a step that must have succeeded, ping's summary, and
// the run's own account of its time.
import { expect } from 'vitest';
import type { VmRun } from './vm.js';

/** A step that must have succeeded, with its output for the assertions that follow. */
export function ok(run: VmRun, name: string): string {
  const step = run.step(name);
  expect(step.exitCode, `${name} failed in the VM:\n${step.output}`).toBe(0);
  return step.output;
}

/** The numbers of `ping -q`'s summary: transmitted, received and the RTTs in ms. */
export function pingSummary(output: string): { sent: number; received: number; min: number; avg: number; max: number } {
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(output);
  const rtt = /rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(output);
  if (!counts || !rtt) throw new Error(`not a ping summary:\n${output}`);
  return { sent: Number(counts[1]), received: Number(counts[2]), min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) };
}

/** The VM's own account of its time: each step's, the boot's and the whole run's. */
export function timings(run: VmRun): string {
  return run.log
    .split('\n')
    .filter((l) => l.startsWith('step ') || l.startsWith('kernel-vm:'))
    .join('\n');
}
