// What a file under /run/netns (or /proc/PID/ns/net) is, by stat(2) and statfs(2): synchronous,
// microseconds each, where a promise round trip costs tens, times a thousand namespaces.
import { statfsSync, statSync } from 'node:fs';

/** statfs(2) f_type of nsfs, the file system of /proc/PID/ns/* and their bind mounts. */
export const NSFS_MAGIC = 0x6e736673;

/** "dev:ino" of a file, or undefined when nothing is there. */
export function fileIdentity(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/** true: a namespace; false: a file that is not one; undefined: nothing there. */
export function isNamespaceFile(path: string): boolean | undefined {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return undefined;
  }
}
