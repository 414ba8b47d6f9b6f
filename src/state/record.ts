// A lab's record: what it made, kept under /run/netlab/<lab>/ so that destroy and plan need no YAML.
// The record is written before the kernel changes it describes, so it is never behind them.
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { NodeKind } from '../model/types.js';
import { recordProblem } from './record-shape.js';

export interface RecordedNode {
  /** null: the root namespace. */
  netns: string | null;
  kind: NodeKind;
  /** kind attach: the namespace file published at /run/netns/<netns>. */
  source?: string;
  /** kind netns: the inode of the namespace the lab made; the same inode there later is that namespace. */
  inode?: string;
  /**
   * In a namespace the lab does not own (host, attach), what it made there, listed before it is
   * made: links, addresses on interfaces that are not its own (dev → CIDRs), routes (route keys),
   * and each sysctl's value from before the lab changed it, to put back on destroy.
   */
  links?: string[];
  addresses?: Record<string, string[]>;
  routes?: string[];
  /** Per resource kind that keeps its own (resources' recordKey), the keys of what the lab made here. */
  objects?: Record<string, string[]>;
  sysctls?: Record<string, string>;
  /**
   * Per sysctl whose write resets every interface's own key (ip_forward, all.forwarding): those
   * keys of interfaces that are not the lab's, with their values from before, where they differ
   * from the sysctl's; destroy sets them again after putting the sysctl back.
   */
  interfaceSysctls?: Record<string, Record<string, string>>;
  /**
   * Set while an apply that creates this namespace runs. A namespace the lab made carries its
   * mark (lo's alias) a moment after it is made; until then only this says it is the lab's.
   */
  creating?: boolean;
  /**
   * Chosen before a run creates this namespace and given to it by the same `ip` process that
   * makes it (`ip netns set`): an unmarked namespace with this id in the root namespace is the
   * one that run made; one without it was made by someone else. With the inode, it tells the
   * lab's namespace from a later one that got the same inode number.
   */
  nsid?: number;
  /** The lab's nftables rules here, rule id → fingerprint as read back after the last apply. */
  nft?: Record<string, string>;
  /** The bridge tables (BridgeRead.table: fdb, vlan) where the lab set something: read on the next plan. */
  bridgeReads?: string[];
}

export interface LabRecord {
  lab: string;
  /** The file last applied, for `netlab ls`; destroy does not need it. */
  file?: string;
  nodes: Record<string, RecordedNode>;
  updated: string;
}

export function recordDir(stateDir: string, lab: string): string {
  return join(stateDir, lab);
}

function recordPath(stateDir: string, lab: string): string {
  return join(recordDir(stateDir, lab), 'record.json');
}

/** The record as found: absent, the lab's own, or something else (problem says what, in words). */
export interface RecordRead {
  record?: LabRecord;
  problem?: string;
  path: string;
}

/** The largest record read: a lab of thousands of namespaces is a few megabytes. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

function fileType(mode: number): string {
  const types: Array<[number, string]> = [
    [constants.S_IFDIR, 'a directory'],
    [constants.S_IFIFO, 'a pipe'],
    [constants.S_IFSOCK, 'a socket'],
    [constants.S_IFCHR, 'a device'],
    [constants.S_IFBLK, 'a device'],
  ];
  return types.find(([t]) => (mode & constants.S_IFMT) === t)?.[1] ?? 'not a file';
}

/**
 * Reads the lab's record and checks it is one: a regular file (opened without following a
 * symlink, so another lab's record cannot stand in for it), that parses, has a record's shape and
 * names this lab. Never throws for what is in the file; the caller says what was wrong.
 */
export async function loadRecord(stateDir: string, lab: string): Promise<RecordRead> {
  const path = recordPath(stateDir, lab);
  let file;
  try {
    // O_NONBLOCK: a pipe put there must not hang the open.
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { path };
    if (code === 'ELOOP') return { path, problem: 'is not a regular file (a symlink)' };
    return { path, problem: `cannot be read (${code ?? String(e)})` };
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) return { path, problem: `is not a regular file (${fileType(info.mode)})` };
    if (info.size === 0) return { path, problem: 'is empty' };
    if (info.size > MAX_RECORD_BYTES) return { path, problem: `is ${info.size} bytes, more than a record can be` };
    const text = await file.readFile('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { path, problem: `does not parse (${(e as Error).message})` };
    }
    const problem = recordProblem(value, lab);
    return problem ? { path, problem } : { path, record: value as LabRecord };
  } catch (e) {
    return { path, problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  } finally {
    await file.close();
  }
}

/** The lab's record when it is a good one; a missing or bad record is none. */
export async function readRecord(stateDir: string, lab: string): Promise<LabRecord | undefined> {
  return (await loadRecord(stateDir, lab)).record;
}

/** The errors a full or read-only /run/netlab gives: the user's to fix, in one line. */
const NO_ROOM = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

function describeNoRoom(code: string): string {
  return code === 'EROFS' ? 'read-only file system' : code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left on device';
}

/** A write under the state directory that failed for want of room, as one line the user can act on. */
export function stateWriteError(e: unknown, path: string, stateDir: string, consequence: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === undefined || !NO_ROOM.has(code)) return e as Error;
  return new UserError(`cannot write ${path}: ${describeNoRoom(code)} — free space on ${stateDir} (df -h ${stateDir}) and run again; ${consequence}`);
}

/**
 * Atomic: a reader sees the old record or the new one, never half of one. `consequence` says
 * what a failed write means for the user (before a run: nothing was changed).
 */
export async function writeRecord(stateDir: string, record: LabRecord, consequence = 'nothing was changed'): Promise<void> {
  const dir = recordDir(stateDir, record.lab);
  const tmp = join(dir, `.record.${process.pid}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(tmp, recordPath(stateDir, record.lab));
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw stateWriteError(e, recordPath(stateDir, record.lab), stateDir, consequence);
  }
}

export async function removeRecord(stateDir: string, lab: string): Promise<void> {
  await rm(recordDir(stateDir, lab), { recursive: true, force: true });
}

/** Every lab's good record; `except` skips one lab's (the caller's own, already read). */
export async function listRecords(stateDir: string, options: { except?: string } = {}): Promise<LabRecord[]> {
  const names = (await readdir(stateDir).catch(() => [] as string[])).filter((name) => name !== options.except);
  const records = await Promise.all(names.sort().map((name) => readRecord(stateDir, name)));
  return records.filter((r): r is LabRecord => r !== undefined);
}

/** The union of two records' nodes: what must be findable while a change is under way. */
export function mergeNodes(a: LabRecord['nodes'], b: LabRecord['nodes']): LabRecord['nodes'] {
  const merged: LabRecord['nodes'] = { ...a };
  for (const [name, node] of Object.entries(b)) merged[name] = { ...a[name], ...node };
  return merged;
}
