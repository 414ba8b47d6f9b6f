// A namespace the lab did not make (kind attach), published at /run/netns/<name> for `ip netns`.
import type { ChangeBase, Resource } from './resource.js';

export type PublishChange = ChangeBase & { kind: 'publish'; source: string };

export const publishResource: Resource<PublishChange> = {
  kind: 'publish',
  plural: 'namespaces published under /run/netns',
  id: (c) => `publish/${c.node}`,
  scope: () => ({ tool: 'mount', netns: null }),
  commands: (c) => [c.action === 'delete' ? { tool: 'mount', op: 'unpublish', netns: c.netns! } : { tool: 'mount', op: 'publish', source: c.source, netns: c.netns!, node: c.node }],
  summary: (c) => `publish ${c.source} as /run/netns/${c.netns}`,
  opensNamespace: (c) => c.action === 'create',
  dependsOn(c, index) {
    // After ip netns add has set /run/netns up, which would otherwise cover the mount.
    if (c.action === 'create') return index.all((o) => o.kind === 'netns' && o.action === 'create');
    // Unpublished last: until then /run/netns/<name> is how the lab's commands reach inside.
    return index.sameNode(c, () => true);
  },
};
