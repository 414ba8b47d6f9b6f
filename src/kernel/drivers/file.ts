// Files netlab writes itself (a node's resolv.conf under /etc/netns/<ns>), change by change.
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crashPoint } from '../crash-point.js';
import { commandsFor, eachChange } from './per-change.js';
import type { Driver } from './types.js';

/** The two file operations, apart so that a test can make one fail without touching /etc. */
export interface FileOps {
  write(path: string, content: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const nodeFileOps: FileOps = {
  async write(path, content) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  },
  async remove(path) {
    await rm(path, { force: true });
    crashPoint('resolv-conf-removed');
    // The directory is the namespace's own (/etc/netns/<ns>); gone when nothing else is in it.
    await rmdir(dirname(path)).catch(() => undefined);
  },
};

export function fileDriver(ops: FileOps = nodeFileOps): Driver {
  return {
    run: ({ changes }, ctx) =>
      eachChange(changes, async (change) => {
        for (const cmd of commandsFor(change, 'file')) {
          ctx.log?.command({ tool: 'file', netns: null }, cmd.op === 'write' ? `write ${cmd.path}` : `remove ${cmd.path}`);
          if (cmd.op === 'write') await ops.write(cmd.path, cmd.content);
          else await ops.remove(cmd.path);
        }
      }),
  };
}
