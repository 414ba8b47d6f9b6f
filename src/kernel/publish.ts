// Publishing a namespace the lab did not make (kind attach) at /run/netns/<name>, as the seed does
// by hand: an empty file there, and the namespace bind-mounted over it. Unpublishing unmounts and
// removes the file; the namespace lives on with its processes.
//
// Only a mount the lab made is ever taken away. A small file per node under the lab's record
// (publish/<node>.json) says so: written before the empty file is made, completed with the mount's
// id once it is mounted, removed last. What is at /run/netns/<name> is the lab's only while it is
// still that namespace (device and inode) on that mount, or the empty file a stopped run left.
import { readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError } from '../errors.js';
import { writeWhole } from './atomic-file.js';
import { crashPoint } from './crash-point.js';
import { fileIdentity, isNamespaceFile } from './ns-file.js';
import { netnsPath, RUN_NETNS } from './paths.js';
import type { Runner } from './runner.js';


export interface Publication {
  netns: string;
  /** "dev:ino" of the namespace mounted. */
  namespace: string;
  /** The mount's id in /proc/self/mountinfo; absent until the mount is made. */
  mount?: number;
}

/** What is at /run/netns/<name> of an attach node, seen against its source and the lab's publication. */
export interface PublishedState {
  /** A mount of the source's namespace (or of some namespace, the source being gone). */
  published: boolean;
  /** The lab made what is there: its own mount, or the empty file under it. */
  byLab: boolean;
  /** Something else is there: a file that is no namespace, or another namespace. */
  blocked?: 'file' | 'namespace';
}

export function publicationFile(recordDir: string, node: string): string {
  return join(recordDir, 'publish', `${node}.json`);
}


/** A namespace is there (nothing there, or another file, is not). */
const isNamespace = (path: string): boolean => isNamespaceFile(path) === true;

/** An empty regular file: what the lab mounts over, and all that is left when a run stops in between. */
function isEmptyFile(path: string): boolean {
  try {
    const s = statSync(path);
    return s.isFile() && s.size === 0;
  } catch {
    return false;
  }
}

/** The id of the topmost mount at `path`, from this process's mountinfo. */
export function mountIdAt(path: string): number | undefined {
  let id: number | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[4] === path) id = Number(fields[0]);
  }
  return id;
}

export function readPublication(recordDir: string | undefined, node: string): Publication | undefined {
  if (!recordDir) return undefined;
  try {
    return JSON.parse(readFileSync(publicationFile(recordDir, node), 'utf8')) as Publication;
  } catch {
    return undefined;
  }
}

/** Whether the lab's publication still describes what is at the target. */
function isLabMount(target: string, publication: Publication | undefined): boolean {
  if (!publication || fileIdentity(target) !== publication.namespace) return false;
  // Killed between mounting and noting the mount's id: the namespace alone says it.
  return publication.mount === undefined || mountIdAt(target) === publication.mount;
}

export function publishedState(node: string, netns: string, source: string | undefined, recordDir: string | undefined): PublishedState {
  const target = netnsPath(netns);
  const at = fileIdentity(target);
  if (at === undefined) return { published: false, byLab: false };
  const publication = readPublication(recordDir, node);
  if (!isNamespace(target)) {
    return { published: false, byLab: publication !== undefined && isEmptyFile(target), blocked: 'file' };
  }
  const from = source ? fileIdentity(source) : undefined;
  if (from !== undefined && from !== at) return { published: false, byLab: false, blocked: 'namespace' };
  return { published: true, byLab: isLabMount(target, publication) };
}

/**
 * /run/netns as `ip netns add` leaves it: a mount point of its own with shared propagation. A
 * namespace bind-mounted there before that would be covered by ip's own bind mount later and could
 * then never be unmounted whole ("Device or resource busy").
 */
async function shareRunNetns(runner: Runner): Promise<void> {
  const shared = await runner.run(['mount', '--make-shared', RUN_NETNS]);
  if (shared.exitCode === 0) return;
  for (const argv of [['mount', '--bind', RUN_NETNS, RUN_NETNS], ['mount', '--make-shared', RUN_NETNS]]) {
    const result = await runner.run(argv);
    if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  }
}

async function run(runner: Runner, argv: string[]): Promise<void> {
  const result = await runner.run(argv);
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
}

async function writePublication(file: string, publication: Publication): Promise<void> {
  await writeWhole(file, `${JSON.stringify(publication)}\n`);
}

export async function publish(node: string, netns: string, source: string, recordDir: string, runner: Runner): Promise<void> {
  const target = netnsPath(netns);
  const file = publicationFile(recordDir, node);
  const namespace = fileIdentity(source);
  if (namespace === undefined) throw new Error(`${source} does not exist`);
  // The empty file of a run that stopped before mounting is the lab's to use; anything else is not.
  const leftover = readPublication(recordDir, node) !== undefined && isEmptyFile(target);
  await mkdir(RUN_NETNS, { recursive: true });
  await shareRunNetns(runner);
  await writePublication(file, { netns, namespace });
  if (!leftover) {
    try {
      await writeFile(target, '', { flag: 'wx' });
    } catch (e) {
      await rm(file, { force: true });
      throw (e as NodeJS.ErrnoException).code === 'EEXIST' ? new Error(`${target} exists and is not the lab's: left alone`) : e;
    }
  }
  crashPoint('publish-file-made');
  await run(runner, ['mount', '--bind', source, target]);
  await writePublication(file, { netns, namespace, mount: mountIdAt(target) });
}

/** Takes away the lab's own mount and its file; anything else there is left alone, with an error. */
export async function unpublish(node: string, netns: string, recordDir: string, runner: Runner): Promise<void> {
  const target = netnsPath(netns);
  const file = publicationFile(recordDir, node);
  const publication = readPublication(recordDir, node);
  if (isNamespace(target)) {
    if (!isLabMount(target, publication)) throw new Error(`${target} is not the mount the lab made: left alone`);
    await run(runner, ['umount', target]);
  }
  crashPoint('unpublish-unmounted');
  if (publication && isEmptyFile(target)) await rm(target, { force: true });
  await rm(file, { force: true });
}
