// One netlab run at a time per lab, and one at a time in the machine's root namespace: a lock file
// created exclusively, naming its holder. A holder that died (kill -9) leaves a file whose process
// is gone or is another one now; the next run takes the lock over.
import { mkdir, open, readFile, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { startTime } from '../kernel/processes.js';

interface Holder {
  pid: number;
  started: string;
  command: string;
  since: string;
}

export interface Lock {
  release(): Promise<void>;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  // A lock taken on a full file system is a symlink naming its holder (see tryCreate).
  return readlink(path)
    .catch(() => readFile(path, 'utf8'))
    .then((text) => JSON.parse(text) as Holder)
    .catch(() => undefined);
}

async function isAlive(holder: Holder): Promise<boolean> {
  return (await startTime(holder.pid)) === holder.started;
}

/** tmpfs keeps a symlink's target this short in the inode: it needs no free block. */
const SHORT_SYMLINK = 120;

/**
 * On a full file system (a run: command's log filled /run/netlab) the holder cannot be written,
 * and destroy must still run: the lock is then a symlink whose target names the holder, created
 * as atomically as the file.
 */
async function tryCreateLink(path: string, holder: Holder): Promise<boolean> {
  const short = { ...holder, command: '' };
  const room = SHORT_SYMLINK - JSON.stringify(short).length;
  try {
    await symlink(JSON.stringify({ ...short, command: holder.command.slice(0, Math.max(0, room)) }), path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

async function tryCreate(path: string, holder: Holder): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') return tryCreateLink(path, holder);
    throw e;
  }
  try {
    await file.writeFile(JSON.stringify(holder));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    await file.close();
    await rm(path, { force: true });
    return tryCreateLink(path, holder);
  }
  await file.close();
  return true;
}

export interface LockOptions {
  /** How long to wait for a holder that is alive, in milliseconds. */
  waitMs: number;
  /** Told once when the run has to wait, with who holds the lock. */
  onWait?: (message: string) => void;
}

function describe(name: string, h: Holder): string {
  return `${name} is held by pid ${h.pid} (${h.command}) since ${h.since}`;
}

export async function acquire(stateDir: string, name: string, options: LockOptions): Promise<Lock> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, `${name}.lock`);
  const me: Holder = { pid: process.pid, started: (await startTime(process.pid)) ?? '', command: process.argv.slice(2).join(' '), since: new Date().toISOString() };
  const deadline = Date.now() + options.waitMs;
  let told = false;
  for (;;) {
    if (await tryCreate(path, me)) return { release: () => rm(path, { force: true }) };
    const holder = await readHolder(path);
    if (!holder || !(await isAlive(holder))) {
      // Its holder is gone: remove the stale lock and try again.
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new UserError(`another netlab run holds the lock: ${describe(name, holder)} — wait for it, or run again with a longer --wait`);
    }
    if (!told) options.onWait?.(`waiting: ${describe(name, holder)}`);
    told = true;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Takes the locks in a fixed order (root first), so two runs can never hold one each and wait forever. */
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
