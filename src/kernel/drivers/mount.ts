// kind attach: the namespace published at /run/netns/<name>, or the lab's own mount taken away
// (publish.ts), change by change.
import { netnsPath } from '../paths.js';
import { publish, unpublish } from '../publish.js';
import { commandsFor, eachChange } from './per-change.js';
import type { Driver } from './types.js';

export const mountDriver: Driver = {
  run: ({ changes }, ctx) =>
    eachChange(changes, async (change) => {
      for (const cmd of commandsFor(change, 'mount')) {
        if (!ctx.recordDir) throw new Error("publishing a namespace needs the lab's record directory");
        const target = netnsPath(cmd.netns);
        ctx.log?.command({ tool: 'mount', netns: null }, cmd.op === 'publish' ? `mount --bind ${cmd.source} ${target}` : `umount ${target}`);
        if (cmd.op === 'publish') await publish(change.node, cmd.netns, cmd.source, ctx.recordDir, ctx.runner);
        else await unpublish(change.node, cmd.netns, ctx.recordDir, ctx.runner);
      }
    }),
};
