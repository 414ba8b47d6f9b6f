// Processes and namespaces, read from /proc: which processes live in which network namespace, and
// the long-running `run:` commands a lab started (a small JSON file each under its record).
import { statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { writeWhole } from './atomic-file.js';
import { crashPoint } from './crash-point.js';

/** "net:[4026532123]" → "4026532123": the namespace's inode, as stat() of /run/netns/X gives it too. */
function inodeOfLink(link: string): string | undefined {
  return /^net:\[(\d+)\]$/.exec(link)?.[1];
}

/** Every process on the machine, by the inode of its network namespace: one pass over /proc. */
export async function processesByNamespace(): Promise<Map<string, number[]>> {
  const byInode = new Map<string, number[]>();
  const entries = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const inode = inodeOfLink(await readlink(`/proc/${e}/ns/net`).catch(() => ''));
        if (inode === undefined || Number(e) === process.pid) return;
        byInode.set(inode, [...(byInode.get(inode) ?? []), Number(e)]);
      }),
  );
  return byInode;
}

/** The stat is synchronous on purpose (statSync): a lab of 1000 namespaces asks 1000 times, and a stat is microseconds. */
export async function namespaceInode(path: string): Promise<string | undefined> {
  try {
    return String(statSync(path).ino);
  } catch {
    return undefined;
  }
}

/**
 * /proc/PID/stat's start time: a pid that was reused by another process has another one. A
 * process that has exited but is not reaped yet (a zombie) is not running: undefined.
 */
export async function startTime(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name may hold spaces and parentheses; the fields after its last ')' are plain.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19];
}

export interface RunState {
  command: string;
  /** 0 while starting: the run file is written before the process, which may not exist yet. */
  pid: number;
  started: string;
  log: string;
}

/**
 * Each run: process carries NETLAB_RUN=<its run file> in its environment: a run stopped between
 * starting it and noting its pid can still find it, from the kernel's side.
 */
export const RUN_MARKER = 'NETLAB_RUN';

/** The session leader (the `sh -c` started) whose environment carries the marker, if it still runs. */
async function findMarked(file: string): Promise<{ pid: number; started: string } | undefined> {
  const wanted = `${RUN_MARKER}=${file}`;
  const entries = (await readdir('/proc').catch(() => [] as string[])).filter((e) => /^\d+$/.test(e));
  for (const e of entries) {
    const environ = await readFile(`/proc/${e}/environ`, 'utf8').catch(() => '');
    if (!environ.split('\0').includes(wanted)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    // Field 6, the session: the command's own children carry the marker too, but lead no session.
    const session = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3];
    const started = await startTime(Number(e));
    if (session === e && started !== undefined) return { pid: Number(e), started };
  }
  return undefined;
}

export function runDir(recordDir: string): string {
  return join(recordDir, 'run');
}

export function runFile(recordDir: string, node: string, key: string): string {
  return join(runDir(recordDir), `${node}.${key}.json`);
}

/** The run files of one node, with whether each process is still the one that was started. */
export async function readRuns(recordDir: string, node: string): Promise<Map<string, RunState & { alive: boolean }>> {
  return (await readAllRuns(recordDir, [node])).get(node)!;
}

/** The run files of the given nodes, read with one look at the directory. */
export async function readAllRuns(recordDir: string, nodes: readonly string[]): Promise<Map<string, Map<string, RunState & { alive: boolean }>>> {
  const byNode = new Map(nodes.map((n) => [n, new Map<string, RunState & { alive: boolean }>()]));
  const names = await readdir(runDir(recordDir)).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    // A node name may hold '.', a key never does: the file is the longest node name's that prefixes it.
    const node = nodes.filter((n) => name.startsWith(`${n}.`)).sort((a, b) => b.length - a.length)[0];
    if (node === undefined) continue;
    const key = name.slice(node.length + 1, -'.json'.length);
    const file = join(runDir(recordDir), name);
    const state = JSON.parse(await readFile(file, 'utf8')) as RunState;
    if (state.pid === 0) {
      const found = await findMarked(file);
      byNode.get(node)!.set(key, found ? { ...state, ...found, alive: true } : { ...state, alive: false });
      continue;
    }
    byNode.get(node)!.set(key, { ...state, alive: (await startTime(state.pid)) === state.started });
  }
  return byNode;
}

/**
 * Starts `sh -c COMMAND` in a namespace, in a session of its own (so that stopping it stops what
 * it started), output appended to its log. Its run file is written first and completed with the
 * pid after: a run killed in between leaves a file the next one finds the process by (findMarked).
 */
export async function startRun(argv: string[], file: string, log: string, command: string): Promise<RunState> {
  await mkdir(join(file, '..'), { recursive: true });
  await writeWhole(file, `${JSON.stringify({ command, pid: 0, started: '', log } satisfies RunState)}\n`);
  const out = await open(log, 'a');
  const env = { ...process.env, [RUN_MARKER]: file };
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out.fd, out.fd], env });
  const spawned = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  child.unref();
  await out.close();
  crashPoint('run-started');
  const state: RunState = { command, pid: spawned, started: (await startTime(spawned)) ?? '', log };
  await writeWhole(file, `${JSON.stringify(state)}\n`);
  return state;
}

function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, a moment to finish, then SIGKILL: to a process group (negative pid) or single processes. */
export async function stopAll(targets: number[], graceMs = 1000): Promise<void> {
  const alive = targets.filter((t) => signal(t, 'SIGTERM'));
  const deadline = Date.now() + graceMs;
  let left = alive;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter((t) => signal(t, 0));
  }
  for (const t of left) signal(t, 'SIGKILL');
}

export async function removeRunFile(file: string): Promise<void> {
  await rm(file, { force: true });
}
