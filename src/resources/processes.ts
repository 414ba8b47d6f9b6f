// The processes left in a namespace about to go: ended first, or the namespace lingers.
import type { ChangeBase, Resource } from './resource.js';

/** inode: of the namespace proven the lab's when planned; a namespace there since is left alone. */
export type ProcessesChange = ChangeBase & { kind: 'processes'; pids: number[]; inode?: string };

export const processesResource: Resource<ProcessesChange> = {
  kind: 'processes',
  plural: 'processes left in namespaces about to go',
  id: (c) => `processes/${c.node}`,
  scope: () => ({ tool: 'proc', netns: null }),
  commands: (c) => [{ tool: 'proc', op: 'evict', netns: c.netns! }],
  summary: (c) => `processes in netns ${c.netns}: ${c.pids.join(' ')}`,
};
