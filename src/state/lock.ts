// One netlab run at a time per lab, and one at a time in the machine's root namespace.
//
// The lock is flock(2) on a file, which the kernel drops when its holder dies however it dies
// (kill -9 included): a dead holder leaves no lock to judge stale, so no run ever removes another's.
// Node has no flock, so `flock` from util-linux takes it on Node's own open file: the child gets
// the descriptor as fd 3, flocks it and exits, and the lock stays with the open file description
// Node still holds (flock locks belong to the description, not to the process that asked).
//
// Why it is race-free with the file removed on release: a run holds the lock only once it has
// flocked the file AND the path still names that same file (device and inode). The path is
// unlinked only by a holder, before it unlocks; it is created only where nothing is (O_CREAT
// without O_TRUNC). So a run that flocked a file just removed sees the path name another file
// (or none) and starts over, and at any moment the path names one file, whose flock one run has.
// The file's contents only name the holder, for the message of a run that waits.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';

interface Holder {
  pid: number;
  command: string;
  since: string;
}

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for a holder that is alive, in milliseconds. */
  waitMs: number;
  /** Told once when the run has to wait, with who holds the lock. */
  onWait?: (message: string) => void;
}

/** flock's exit code when the lock stays another's (-n) or the wait ran out (-w). */
const HELD = 75;

/** flock(2) on the open file, through util-linux's flock: 'locked', or 'held' by another when waitMs ran out. */
async function flockFile(file: FileHandle, name: string, waitMs: number): Promise<'locked' | 'held'> {
  const wait = waitMs > 0 ? ['-w', (waitMs / 1000).toFixed(3)] : ['-n'];
  const child = spawn('flock', [...wait, '-E', String(HELD), '3'], { stdio: ['ignore', 'ignore', 'pipe', file.fd] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | NodeJS.ErrnoException>((resolve) => {
    child.once('error', resolve);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (ended instanceof Error) {
    if (ended.code === 'ENOENT') throw new UserError('flock not found on PATH — install with: apt-get install -y util-linux (nothing was changed)');
    throw new UserError(`flock could not start: ${ended.message} (nothing was changed)`);
  }
  if (ended.code === 0) return 'locked';
  if (ended.code === HELD) return 'held';
  // Ctrl-C reaches the waiting flock too.
  if (ended.signal) throw new UserError(`stopped by ${ended.signal} while waiting for the lock ${name} (nothing was changed)`);
  throw new UserError(`flock could not lock ${name}: ${stderr.trim() || `exit ${ended.code}`} (nothing was changed)`);
}

/** Whether the path still names the open file: not unlinked (and perhaps made anew) by a holder that released. */
async function pathNamesFile(path: string, file: FileHandle): Promise<boolean> {
  const [mine, named] = await Promise.all([file.stat(), stat(path).catch(() => undefined)]);
  return named !== undefined && named.dev === mine.dev && named.ino === mine.ino;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  return readFile(path, 'utf8')
    .then((text) => JSON.parse(text) as Holder)
    .catch(() => undefined);
}

/** The holder, given a moment to write itself: a run that has just taken the lock writes its name next. */
async function readHolderSoon(path: string): Promise<Holder | undefined> {
  for (let tries = 0; tries < 20; tries++) {
    const holder = await readHolder(path);
    if (holder) return holder;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

function describe(name: string, h: Holder | undefined): string {
  return h ? `${name} is held by pid ${h.pid} (${h.command}) since ${h.since}` : `${name} is held by another run`;
}

/**
 * Writes the holder's name into the lock file, for a run that waits. On a full file system (a
 * run: command's log filled /run/netlab) it stays unnamed: the lock holds all the same, and
 * destroy must still run.
 */
async function nameHolder(file: FileHandle, me: Holder): Promise<void> {
  try {
    await file.truncate(0);
    await file.write(JSON.stringify(me), 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    await file.truncate(0).catch(() => undefined);
  }
}

export async function acquire(stateDir: string, name: string, options: LockOptions): Promise<Lock> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, `${name}.lock`);
  const me: Holder = { pid: process.pid, command: process.argv.slice(2).join(' '), since: new Date().toISOString() };
  const deadline = Date.now() + options.waitMs;
  let told = false;
  for (;;) {
    // Created if missing, never truncated: a file another run holds stays the one it holds.
    const file = await open(path, constants.O_RDWR | constants.O_CREAT);
    let outcome: 'locked' | 'held';
    try {
      outcome = await flockFile(file, name, 0);
      if (outcome === 'held' && Date.now() < deadline) {
        if (!told) options.onWait?.(`waiting: ${describe(name, await readHolderSoon(path))}`);
        told = true;
        outcome = await flockFile(file, name, deadline - Date.now());
      }
    } catch (e) {
      await file.close();
      throw e;
    }
    if (outcome === 'held') {
      const holder = await readHolderSoon(path);
      await file.close();
      throw new UserError(`another netlab run holds the lock: ${describe(name, holder)} — wait for it, or run again with a longer --wait`);
    }
    if (!(await pathNamesFile(path, file))) {
      await file.close();
      continue;
    }
    await nameHolder(file, me);
    // Unlinked before the unlock (the close), so no run can hold this file while the path names it.
    return { release: async () => void (await unlink(path).catch(() => undefined), await file.close()) };
  }
}

/** Takes the locks in one fixed order (by name, so `lab-…` before `root`), so two runs can never hold one each and wait forever. */
export async function acquireAll(stateDir: string, names: string[], options: LockOptions): Promise<Lock> {
  const held: Lock[] = [];
  try {
    for (const name of [...names].sort()) held.push(await acquire(stateDir, name, options));
  } catch (e) {
    for (const lock of held.reverse()) await lock.release();
    throw e;
  }
  return { release: async () => void (await Promise.all(held.map((l) => l.release()))) };
}
