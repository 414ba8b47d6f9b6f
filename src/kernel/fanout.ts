// Many short runs, one per namespace (`ip -batch`, `sysctl`), started by one process instead of one each.
//
// Spawning from Node costs milliseconds of the main thread per process (fork of a large process,
// plus execa's own work): 100 namespaces spent ~450 ms there, more than the kernel work itself.
// Here Node starts a single `xargs -P N`, which hands the jobs, a few lines at a time, to small
// shells that fork the `nsenter ... ip -batch` processes, N shells at a time; each job's input,
// output, error and exit code go through files in a private temporary directory. A shell per
// job would cost one more exec each (0.85 s for 1000 namespaces). Every word on a job line is a
// validated name, a fixed flag, a sysctl assignment or a path netlab made; anything else runs
// on its own, the ordinary way.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult, Runner } from './runner.js';
import { enterPath } from './runner.js';

export interface Job {
  /** The namespace file to enter (/run/netns/X, /proc/PID/ns/net); null: the root namespace. */
  enter: string | null;
  /** The tool and its arguments, e.g. ['ip', '-d', '-j', '-batch', '-'] or ['sysctl', '-e', 'net.ipv4.ip_forward']. */
  argv: string[];
  /** Its standard input: an ip batch, one command per line. */
  input?: string;
}

/**
 * The shell xargs starts with the directory, then one or more job lines: the job's number, where
 * to enter, the tool and its arguments, and `;;`. The words are SAFE, so an unquoted $cmd splits
 * them back as they were (globbing off). Exit codes go to one shared file, a line each: appends
 * that small are atomic.
 */
const JOBS = [
  'dir=$1; shift; set -f',
  'while [ $# -gt 0 ]; do',
  '  id=$1; enter=$2; shift 2; cmd=',
  '  while [ $# -gt 0 ] && [ "$1" != ";;" ]; do cmd="$cmd $1"; shift; done; [ $# -gt 0 ] && shift',
  '  if [ "$enter" = - ]; then $cmd; else nsenter --net="$enter" $cmd; fi <"$dir/$id.in" >"$dir/$id.out" 2>"$dir/$id.err"',
  '  echo "$id $?" >>"$dir/rc"',
  'done',
].join('\n');

/** Job lines per shell: enough to spare most shells' own start, few enough to share the work out evenly. */
function linesPerShell(jobs: number, concurrency: number): number {
  return Math.max(1, Math.min(16, Math.ceil(jobs / (concurrency * 4))));
}

/** "id code" lines → code by id. */
function exitCodes(text: string): Map<number, number> {
  const codes = new Map<number, number>();
  for (const line of text.split('\n')) {
    const [id, code] = line.split(' ');
    if (id && code) codes.set(Number(id), Number(code));
  }
  return codes;
}

/** Words xargs passes on as they are: no blanks, quotes or backslashes. */
const SAFE = /^[A-Za-z0-9_./=:,+-]+$/;

function fansOut(job: Job): boolean {
  return (job.enter === null || SAFE.test(job.enter)) && job.argv.every((a) => SAFE.test(a));
}

/** The argv a job runs, as a person would read it in an error. */
export function jobArgv(job: Job): string[] {
  return enterPath(job.enter, job.argv);
}

async function runAlone(job: Job, runner: Runner): Promise<RunResult> {
  return runner.run(jobArgv(job), job.input);
}

/**
 * Where the jobs' files go: $TMPDIR when set, else /dev/shm, a tmpfs on any Linux. Creating a
 * thousand small files on a disk's /tmp took 600 ms here, on /dev/shm 12 ms.
 */
function scratchBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TMPDIR) return env.TMPDIR;
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no /dev/shm: the system's temporary directory
  }
  return tmpdir();
}

export async function runJobs(jobs: readonly Job[], runner: Runner, concurrency: number): Promise<RunResult[]> {
  const results: RunResult[] = new Array(jobs.length);
  const together = jobs.map((job, i) => [job, i] as const).filter(([job]) => fansOut(job));
  const alone = jobs.map((job, i) => [job, i] as const).filter(([job]) => !fansOut(job));
  await Promise.all(alone.map(async ([job, i]) => (results[i] = await runAlone(job, runner))));
  if (together.length === 1) {
    const [job, i] = together[0]!;
    results[i] = await runAlone(job, runner);
  } else if (together.length > 1) {
    const dir = await mkdtemp(join(scratchBase(), 'netlab-'));
    // Thousands of small files: synchronous calls cost microseconds each, promises tens.
    try {
      for (const [job, i] of together) writeFileSync(join(dir, `${i}.in`), job.input ?? '');
      // Longest first (by the size of its batch): the hub of a star starts at once, not last.
      const longestFirst = [...together].sort(([a], [b]) => (b.input?.length ?? 0) - (a.input?.length ?? 0));
      const lines = longestFirst.map(([job, i]) => [String(i), job.enter ?? '-', ...job.argv, ';;'].join(' ')).join('\n');
      const slots = Math.max(1, concurrency);
      await runner.run(['xargs', '-P', String(slots), '-L', String(linesPerShell(together.length, slots)), 'sh', '-c', JOBS, 'sh', dir], `${lines}\n`);
      const read = (name: string) => {
        try {
          return readFileSync(join(dir, name), 'utf8');
        } catch {
          return undefined;
        }
      };
      const codes = exitCodes(read('rc') ?? '');
      for (const [, i] of together) {
        const exitCode = codes.get(i);
        // A job's errors are read when it failed; a tool's chatter on success is not needed.
        if (exitCode === undefined) results[i] = { exitCode: 127, stdout: '', stderr: `${read(`${i}.err`) ?? ''}not run (xargs did not start it)` };
        else results[i] = { exitCode, stdout: read(`${i}.out`) ?? '', stderr: exitCode === 0 ? '' : (read(`${i}.err`) ?? '') };
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return results;
}
