// run: commands started and stopped, and every process in a namespace about to go ended, change
// by change.
import type { Change } from '../../plan/change.js';
import type { Command } from '../../resources/resource.js';
import { netnsPath } from '../paths.js';
import { namespaceInode, processesByNamespace, readRuns, removeRunFile, runFile, startRun, stopAll } from '../processes.js';
import { commandsFor, eachChange } from './per-change.js';
import type { Driver, DriverContext } from './types.js';

type ProcCommand = Extract<Command, { tool: 'proc' }>;

async function evict(change: Change, netns: string, byNamespace: ReadonlyMap<string, number[]>, ctx: DriverContext): Promise<void> {
  const inode = await namespaceInode(netnsPath(netns));
  if (change.kind === 'processes' && change.inode !== undefined && inode !== change.inode) {
    throw new Error(`/run/netns/${netns} is not the namespace the plan proved the lab's (inode ${inode ?? 'none'}, not ${change.inode}); its processes are left alone`);
  }
  const pids = (inode && byNamespace.get(inode)) || [];
  ctx.log?.command({ tool: 'proc', netns }, `kill ${pids.join(' ')}`);
  await stopAll(pids);
}

async function startOrStop(change: Change, cmd: Exclude<ProcCommand, { op: 'evict' }>, ctx: DriverContext): Promise<void> {
  if (!ctx.recordDir) throw new Error("run commands need the lab's record directory");
  const file = runFile(ctx.recordDir, cmd.node, cmd.key);
  if (cmd.op === 'stop') {
    const state = (await readRuns(ctx.recordDir, cmd.node)).get(cmd.key);
    ctx.log?.command({ tool: 'proc', netns: null }, `kill -- -${state?.pid ?? '?'}`);
    if (state?.alive) await stopAll([-state.pid]);
    await removeRunFile(file);
    return;
  }
  ctx.log?.command({ tool: 'proc', netns: null }, cmd.argv.join(' '));
  const log = file.replace(/\.json$/, '.log');
  await startRun(cmd.argv, file, log, cmd.command);
}

export const procDriver: Driver = {
  async run({ changes }, ctx) {
    // One pass over /proc for the whole batch, and only when a namespace is to be emptied.
    const byNamespace = changes.some((c) => c.kind === 'processes') ? await processesByNamespace() : new Map<string, number[]>();
    return eachChange(changes, async (change) => {
      for (const cmd of commandsFor(change, 'proc')) {
        if (cmd.op === 'evict') await evict(change, cmd.netns, byNamespace, ctx);
        else await startOrStop(change, cmd, ctx);
      }
    });
  },
};
