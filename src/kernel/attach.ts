// Checks for kind: attach nodes before anything is read or changed: the namespace must exist, be a
// network namespace, and not be published in /run/netns under another name already.
import { readdir, stat, statfs } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { LabState } from '../model/types.js';
import { netnsPath, RUN_NETNS } from './paths.js';

/** statfs(2) f_type of nsfs, the file system of /proc/PID/ns/* and their bind mounts. */
const NSFS_MAGIC = 0x6e736673;

async function identity(path: string): Promise<string | undefined> {
  return stat(path).then(
    (s) => `${s.dev}:${s.ino}`,
    () => undefined,
  );
}

async function problemWith(node: string, netns: string, source: string, published: ReadonlyMap<string, string>): Promise<string | undefined> {
  const pid = /^\/proc\/(\d+)\/ns\/net$/.exec(source)?.[1];
  const id = await identity(source);
  if (id === undefined) {
    // Already published and its process gone: the bind mount keeps the namespace, and the lab can still use it.
    if (published.has(netns)) return undefined;
    return pid ? `node ${node}: no process ${pid} (kind: attach, pid: ${pid})` : `node ${node}: ${source} does not exist`;
  }
  const fs = await statfs(source);
  if (fs.type !== NSFS_MAGIC || (source.startsWith('/proc/') && !source.endsWith('/ns/net'))) {
    return `node ${node}: ${source} is not a network namespace — give /proc/PID/ns/net, or a file under /run/docker/netns or /run/netns`;
  }
  for (const [name, other] of published) {
    if (other === id && name !== netns) {
      return `node ${node}: that namespace is already published as ${netnsPath(name)} — attach it with path: ${netnsPath(name)} and node name ${name}, or remove that name (ip netns del ${name})`;
    }
  }
  return undefined;
}

export async function checkAttachments(desired: LabState): Promise<void> {
  const attached = [...desired.nodes.values()].filter((n) => n.kind === 'attach');
  if (attached.length === 0) return;
  const names = await readdir(RUN_NETNS).catch(() => [] as string[]);
  const published = new Map<string, string>();
  for (const name of names) {
    const id = await identity(netnsPath(name));
    if (id) published.set(name, id);
  }
  const problems: string[] = [];
  for (const node of attached) {
    // A path that is itself the published name (/run/netns/<netns>) is not "another name".
    const problem = await problemWith(node.node, node.netns!, node.source!, published);
    if (problem) problems.push(problem);
  }
  if (problems.length) throw new UserError(`${problems.join('\n')}\nnothing was changed`);
}
