// Plans for people (+ ~ -, coloured when the terminal allows) and for tools (JSON). Pure.
import chalk, { type ChalkInstance } from 'chalk';
import { commandsOf, resourceOf, scopeOf, summarize } from '../resources/registry.js';
import type { Command } from '../resources/resource.js';
import { SHOWN_KEYS, wgSetWords } from '../model/wireguard.js';
import type { Action, Change, Plan } from './change.js';

export { summarize };

const SYMBOL: Record<Action, string> = { create: '+', update: '~', delete: '-' };

export interface PlanCounts {
  create: number;
  update: number;
  delete: number;
}

export function countActions(changes: readonly Change[]): PlanCounts {
  const counts: PlanCounts = { create: 0, update: 0, delete: 0 };
  for (const c of changes) counts[c.action] += 1;
  return counts;
}

function colorOf(action: Action, c: ChalkInstance): ChalkInstance {
  return action === 'create' ? c.green : action === 'update' ? c.yellow : c.red;
}

export function renderPlan(plan: Plan, c: ChalkInstance = chalk): string {
  const lines: string[] = [];
  for (const conflict of plan.conflicts) lines.push(c.red(`! conflict on ${conflict.node}: ${conflict.reason}`));
  if (plan.changes.length === 0 && plan.conflicts.length === 0) {
    return `Lab ${plan.lab}: no changes. The kernel matches the file.\n`;
  }
  const width = Math.min(64, Math.max(0, ...plan.changes.map((ch) => summarize(ch).length)));
  for (const change of plan.changes) {
    const text = `${SYMBOL[change.action]} ${summarize(change).padEnd(width)}`;
    lines.push(`${colorOf(change.action, c)(text)}  ${c.dim(change.reason)}`);
    for (const d of resourceOf(change).details?.(change) ?? []) lines.push(`    ${colorOf(d.action, c)(`${SYMBOL[d.action]} ${d.text}`)}  ${c.dim(d.reason)}`);
  }
  const n = countActions(plan.changes);
  lines.push('', `Lab ${plan.lab}: ${n.create} to create, ${n.update} to change, ${n.delete} to delete.`);
  if (plan.conflicts.length) lines.push(c.red(`${plan.conflicts.length} conflict(s): apply will refuse and change nothing.`));
  return `${lines.join('\n')}\n`;
}

function describeCommand(cmd: Command): string {
  switch (cmd.tool) {
    case 'ip':
      return `ip ${cmd.line}`;
    case 'tc':
      return `tc ${cmd.line}`;
    case 'bridge':
      return `bridge ${cmd.line}`;
    case 'sysctl':
      return `sysctl -w ${cmd.assignment}`;
    case 'file':
      return cmd.op === 'write' ? `write ${cmd.path}` : `remove ${cmd.path}`;
    case 'nft':
      return `nft -f - <<'EOF'\n${cmd.script}EOF`;
    case 'proc':
      return cmd.op === 'start' ? cmd.argv.join(' ') : cmd.op === 'stop' ? `stop run ${cmd.node}.${cmd.key}` : `kill the processes in netns ${cmd.netns}`;
    case 'mount':
      return cmd.op === 'publish' ? `mount --bind ${cmd.source} /run/netns/${cmd.netns}` : `umount /run/netns/${cmd.netns}`;
    case 'wg':
      return `wg ${wgSetWords(cmd.wireguard, cmd.remove, SHOWN_KEYS).join(' ')}`;
  }
}

export function planToJson(plan: Plan): unknown {
  return {
    lab: plan.lab,
    summary: countActions(plan.changes),
    conflicts: plan.conflicts,
    changes: plan.changes.map((change) => {
      const { id, kind, action, node, netns, reason } = change;
      const scope = scopeOf(change);
      const lines = resourceOf(change).details?.(change);
      const details = lines ? { details: lines } : {};
      return { id, kind, action, node, netns, summary: summarize(change), reason, ...details, namespace: scope.netns, commands: commandsOf(change).map(describeCommand) };
    }),
  };
}
