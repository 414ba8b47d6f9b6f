// A `run:` command: a process left running in a node's namespace, started when not running.
import type { NodeKind } from '../model/types.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type RunChange = ChangeBase & { kind: 'run'; key: string; command: string; nodeKind: NodeKind };

/** A run command as root with `sh -c`, inside the node's namespace as `ip netns exec` enters it (resolv.conf included). */
export function runArgv(netns: string | null, command: string): string[] {
  return netns === null ? ['sh', '-c', command] : ['ip', 'netns', 'exec', netns, 'sh', '-c', command];
}

export const runResource: NodeResource<RunChange> = {
  kind: 'run',
  plural: 'run: commands, in the background',
  id: (c) => `run/${c.node}/${c.key}`,
  scope: () => ({ tool: 'proc', netns: null }),
  commands: (c) => [c.action === 'delete' ? { tool: 'proc', op: 'stop', node: c.node, key: c.key } : { tool: 'proc', op: 'start', node: c.node, key: c.key, argv: runArgv(c.netns, c.command), command: c.command }],
  summary: (c) => `run on ${c.node}: ${c.command}`,
  dependsOn(c, index) {
    // Started once the node's network is in place (a veth made from the other end's node too).
    return c.action === 'create' ? [...index.sameNode(c, (o) => o.kind !== 'run'), ...index.vethsInto(c.node)] : [];
  },

  /** Started when not running (or exited), stopped when no longer in the file. */
  diff(n: NodeDiff) {
    const { want, current: have } = n;
    const base = { node: have.node, netns: have.netns, kind: 'run' as const, nodeKind: have.kind };
    for (const [key, run] of want.runs) {
      const current = have.runs.get(key);
      if (current?.alive) continue;
      const reason = current ? `exited (its output: ${current.log}); started again` : 'not running';
      n.emit({ ...base, action: 'create', key, command: run.command, reason });
    }
    for (const [key, run] of have.runs) {
      if (want.runs.has(key) || !run.alive) continue;
      n.emit({ ...base, action: 'delete', key, command: run.command, reason: 'not in the file' });
    }
  },
};
