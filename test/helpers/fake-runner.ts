// A Runner that starts nothing: each call is recorded and answered by the test. fanout.ts's one
// `xargs` for a round's jobs is played here too, so that each job reaches the answer as if run alone.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult, Runner } from '../../src/kernel/runner.js';

export interface Call {
  argv: string[];
  input?: string;
}

export type Answer = (call: Call) => Partial<RunResult> | undefined;

export interface FakeRunner extends Runner {
  /** Every tool run, in order; a job started through xargs is listed as the job itself. */
  calls: Call[];
  /** How many xargs processes were started (each starts a round's jobs). */
  fanouts: number;
}

const ok: RunResult = { exitCode: 0, stdout: '', stderr: '' };

export function fakeRunner(answer: Answer = () => undefined): FakeRunner {
  const one = (call: Call): RunResult => {
    fake.calls.push(call);
    return { ...ok, ...answer(call) };
  };
  const fake: FakeRunner = {
    calls: [],
    fanouts: 0,
    async run(argv, input) {
      if (argv[0] !== 'xargs') return one({ argv: [...argv], ...(input === undefined ? {} : { input }) });
      fake.fanouts += 1;
      // argv ends with the job directory; each input line is "id enter tool args... ;;" (fanout.ts).
      const dir = argv.at(-1)!;
      for (const line of (input ?? '').split('\n').filter(Boolean)) {
        const [id, enter, ...rest] = line.split(' ');
        const tool = rest.slice(0, -1);
        const result = one({ argv: enter === '-' ? tool : ['nsenter', `--net=${enter}`, ...tool], input: readFileSync(join(dir, `${id}.in`), 'utf8') });
        writeFileSync(join(dir, `${id}.out`), result.stdout);
        writeFileSync(join(dir, `${id}.err`), result.stderr);
        appendFileSync(join(dir, 'rc'), `${id} ${result.exitCode}\n`);
      }
      return ok;
    },
  };
  return fake;
}
