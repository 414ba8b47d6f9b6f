// The lock holds under a race: many runs started at once against a lock file its dead holder
// left behind take it one at a time, and a holder killed with -9 frees it at once.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const LOCK_MODULE = pathToFileURL(resolve('dist/state/lock.js')).href;

/** A run: waits for the go file, takes the lock, writes enter and leave around a short hold. */
const RUN = `
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
const { acquire } = await import(process.argv[1]);
const [dir, holdMs] = [process.argv[2], Number(process.argv[3])];
const log = join(dir, 'log');
console.log('ready');
while (!existsSync(join(dir, 'go'))) await new Promise((r) => setTimeout(r, 1));
const lock = await acquire(dir, 'lab-race', { waitMs: 30000 });
appendFileSync(log, 'enter ' + process.pid + '\\n');
await new Promise((r) => setTimeout(r, holdMs));
appendFileSync(log, 'leave ' + process.pid + '\\n');
await lock.release();
`;

interface Run {
  ready: Promise<void>;
  exited: Promise<number>;
  pid: number;
}

function startRun(dir: string, holdMs: number): Run {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RUN, LOCK_MODULE, dir, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((r) => child.stdout.once('data', () => r()));
  const exited = new Promise<number>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? 128 : 1))));
  return { ready, exited, pid: child.pid! };
}

/** A lock file as a holder that died with kill -9 left it: naming a process that is gone. */
async function staleLock(dir: string): Promise<void> {
  const gone = spawn('true');
  await new Promise((r) => gone.once('exit', r));
  writeFileSync(join(dir, 'lab-race.lock'), JSON.stringify({ pid: gone.pid, started: '1', command: 'apply gone.yaml', since: 'then' }));
}

/** The enter/leave lines in order; throws at the first overlap. */
function holdsOneAtATime(log: string): string[] {
  const lines = log.trim().split('\n');
  let holder: string | undefined;
  for (const line of lines) {
    const [what, pid] = line.split(' ');
    if (what === 'enter') {
      if (holder) throw new Error(`${pid} entered while ${holder} held the lock:\n${log}`);
      holder = pid;
    } else {
      if (holder !== pid) throw new Error(`${pid} left while ${holder ?? 'nobody'} held the lock:\n${log}`);
      holder = undefined;
    }
  }
  return lines;
}

describe('the lock', () => {
  it('20 runs started at once against a stale lock hold it one at a time, each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-lock-'));
    await staleLock(dir);
    const runs = Array.from({ length: 20 }, () => startRun(dir, 20));
    await Promise.all(runs.map((r) => r.ready));
    writeFileSync(join(dir, 'go'), '');
    const codes = await Promise.all(runs.map((r) => r.exited));
    const lines = holdsOneAtATime(readFileSync(join(dir, 'log'), 'utf8'));
    expect(codes).toEqual(runs.map(() => 0));
    expect(lines.filter((l) => l.startsWith('enter')).map((l) => Number(l.split(' ')[1])).sort()).toEqual(runs.map((r) => r.pid).sort());
    // Released by its last holder: nothing is left in the state directory but the test's files.
    expect(existsSync(join(dir, 'lab-race.lock'))).toBe(false);
  }, 30_000);

  it('a holder killed with -9 frees it at once, and the next run takes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-lock-'));
    writeFileSync(join(dir, 'go'), '');
    const first = startRun(dir, 60_000);
    for (let i = 0; i < 2000 && !existsSync(join(dir, 'log')); i++) await new Promise((r) => setTimeout(r, 10));
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    const started = Date.now();
    const second = startRun(dir, 0);
    expect(await second.exited).toBe(0);
    // Well inside the 30 s a run waits for a live holder.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(readFileSync(join(dir, 'log'), 'utf8').trim().split('\n')).toEqual([`enter ${first.pid}`, `enter ${second.pid}`, `leave ${second.pid}`]);
  }, 30_000);
});
