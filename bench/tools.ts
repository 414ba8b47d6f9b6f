// The contenders. Each measurement gets a fresh sandbox, times its steps, checks that the build
// works and that the teardown leaves nothing, then kills the sandbox.
import type { Lab } from './labs.js';
import { Sandbox, type RunResult } from './sandbox.js';
import type { LabFiles } from './scripts.js';
import { BenchFailure, expectDown, expectUp } from './verify.js';

export const ROWS = [
  'netlab apply',
  'netlab plan',
  'netlab destroy',
  'seed-style up',
  'seed-style down',
  'floor up',
  'floor down',
  'floor up, no link-local',
  'floor down, no link-local',
  'Mininet up+down',
] as const;
export type Row = (typeof ROWS)[number];

export interface Sample {
  row: Row;
  ms: number;
  /** Peak resident memory of the measured process, when known (netlab only). */
  maxRssKb?: number;
}

export interface Contender {
  name: 'netlab' | 'seed' | 'floor' | 'floor-quiet' | 'mininet';
  appliesTo(lab: Lab): boolean;
  measure(lab: Lab, files: LabFiles): Promise<Sample[]>;
}

const tail = (s: string, lines = 15) => s.trim().split('\n').slice(-lines).join('\n');

function mustSucceed(r: RunResult, what: string, okCodes = [0]): void {
  if (okCodes.includes(r.exitCode) && !r.timedOut) return;
  throw new BenchFailure(`${what} ${r.timedOut ? 'timed out' : `exited ${r.exitCode}`}:\n${tail(r.stdout + '\n' + r.stderr)}`);
}

async function withSandbox<T>(isolated: boolean, fn: (sb: Sandbox) => Promise<T>): Promise<T> {
  const sb = await Sandbox.create({ isolated });
  try {
    return await fn(sb);
  } finally {
    await sb.dispose();
  }
}

/** GNU time reports the peak RSS of the process it runs; the marker keeps it apart from netlab's own stderr. */
const RSS_MARK = 'netlab-bench-maxrss-kb=';

export function netlab(cli: string): Contender {
  const step = async (sb: Sandbox, row: Row, args: string[], okCodes = [0]): Promise<Sample & { result: RunResult }> => {
    const r = await sb.run(['/usr/bin/time', '-f', `${RSS_MARK}%M`, process.execPath, cli, ...args]);
    const m = r.stderr.match(new RegExp(`^${RSS_MARK}(\\d+)$`, 'm'));
    r.stderr = r.stderr.replace(new RegExp(`^(${RSS_MARK}\\d+|Command exited with non-zero status \\d+)\\n?`, 'gm'), '');
    mustSucceed(r, `netlab ${args.join(' ')}`, okCodes);
    return { row, ms: r.ms, maxRssKb: m ? Number(m[1]) : undefined, result: r };
  };
  return {
    name: 'netlab',
    appliesTo: () => true,
    measure: (lab, files) =>
      withSandbox(false, async (sb) => {
        const apply = await step(sb, 'netlab apply', ['apply', files.yaml]);
        await expectUp(sb, lab, 'netlab apply');
        // Right after apply the plan must be empty: --detailed-exitcode exits 2 when it is not.
        const plan = await step(sb, 'netlab plan', ['plan', '--detailed-exitcode', files.yaml], [0, 2]);
        if (plan.result.exitCode === 2) throw new BenchFailure(`netlab plan right after apply is not a no-op on ${lab.id}:\n${tail(plan.result.stdout, 30)}`);
        const destroy = await step(sb, 'netlab destroy', ['destroy', files.yaml]);
        await expectDown(sb, lab, 'netlab destroy');
        return [apply, plan, destroy].map(({ row, ms, maxRssKb }) => ({ row, ms, maxRssKb }));
      }),
  };
}

function script(name: 'seed' | 'floor' | 'floor-quiet', up: Row, down: Row, pick: (f: LabFiles) => [string, string]): Contender {
  return {
    name,
    appliesTo: (lab) => !lab.netlabOnly,
    measure: (lab, files) =>
      withSandbox(false, async (sb) => {
        const [upFile, downFile] = pick(files);
        const u = await sb.run(['sh', upFile]);
        mustSucceed(u, `${up} (${upFile})`);
        await expectUp(sb, lab, up);
        const d = await sb.run(['sh', downFile]);
        mustSucceed(d, `${down} (${downFile})`);
        await expectDown(sb, lab, down);
        return [
          { row: up, ms: u.ms },
          { row: down, ms: d.ms },
        ];
      }),
  };
}

export const seed = script('seed', 'seed-style up', 'seed-style down', (f) => [f.seedUp, f.seedDown]);
export const floor = script('floor', 'floor up', 'floor down', (f) => [f.floorUp, f.floorDown]);
export const floorQuiet = script('floor-quiet', 'floor up, no link-local', 'floor down, no link-local', (f) => [f.quietUp, f.floorDown]);

/** Mininet's own up+down of the same star: N hosts on one Linux bridge, no controller, no test. */
export const mininet: Contender = {
  name: 'mininet',
  appliesTo: (lab) => lab.kind === 'star' && lab.size === 100,
  measure: (lab) =>
    withSandbox(true, async (sb) => {
      // HOME on the sandbox's /tmp: Mininet's cleanup path removes ~/.ssh/mn/*.
      const r = await sb.run(['mn', '--topo', `single,${lab.size}`, '--switch', 'lxbr', '--controller', 'none', '--test', 'none'], { env: { HOME: '/tmp' } });
      mustSucceed(r, 'mn');
      const out = r.stdout + r.stderr;
      if (!/completed in/.test(out) || !new RegExp(`\\*\\*\\* Stopping ${lab.size} hosts`).test(out)) {
        throw new BenchFailure(`mn did not build and stop ${lab.size} hosts:\n${tail(out)}`);
      }
      await expectDown(sb, lab, 'Mininet');
      return [{ row: 'Mininet up+down', ms: r.ms }];
    }),
};
