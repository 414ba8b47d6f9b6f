// A lab's record: what it made, kept under /run/netlab/<lab>/ so that destroy and plan need no YAML.
// The record is written before the kernel changes it describes, so it is never behind them.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeKind } from '../model/types.js';

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
  sysctls?: Record<string, string>;
  /**
   * Set while an apply that creates this namespace runs. A namespace the lab made carries its
   * mark (lo's alias) a moment after it is made; until then only this says it is the lab's.
   */
  creating?: boolean;
  /** The lab's nftables rules here, rule id → fingerprint as read back after the last apply. */
  nft?: Record<string, string>;
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

export async function readRecord(stateDir: string, lab: string): Promise<LabRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(stateDir, lab), 'utf8')) as LabRecord;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Atomic: a reader sees the old record or the new one, never half of one. */
export async function writeRecord(stateDir: string, record: LabRecord): Promise<void> {
  const dir = recordDir(stateDir, record.lab);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.record.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, recordPath(stateDir, record.lab));
}

export async function removeRecord(stateDir: string, lab: string): Promise<void> {
  await rm(recordDir(stateDir, lab), { recursive: true, force: true });
}

export async function listRecords(stateDir: string): Promise<LabRecord[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const records = await Promise.all(names.sort().map((name) => readRecord(stateDir, name).catch(() => undefined)));
  return records.filter((r): r is LabRecord => r !== undefined);
}

/** The union of two records' nodes: what must be findable while a change is under way. */
export function mergeNodes(a: LabRecord['nodes'], b: LabRecord['nodes']): LabRecord['nodes'] {
  const merged: LabRecord['nodes'] = { ...a };
  for (const [name, node] of Object.entries(b)) merged[name] = { ...a[name], ...node };
  return merged;
}
