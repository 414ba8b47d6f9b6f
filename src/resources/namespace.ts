// A namespace the lab makes and owns whole (kind netns), under /run/netns.
import type { ChangeBase, Resource } from './resource.js';

/** nsid: given to a new namespace in the same `ip` process that makes it; the run's proof it made it. */
export type NamespaceChange = ChangeBase & { kind: 'netns'; stale?: boolean; nsid?: number };

export const namespaceResource: Resource<NamespaceChange> = {
  kind: 'netns',
  plural: 'namespaces',
  id: (c) => `netns/${c.node}`,
  scope: () => ({ tool: 'ip', netns: null }),
  commands(c) {
    if (c.action === 'delete') return [{ tool: 'ip', line: `netns del ${c.netns}` }];
    // A file left by a run killed inside `ip netns add` goes first (netns del unlinks it).
    const lines = [...(c.stale ? [`netns del ${c.netns}`] : []), `netns add ${c.netns}`];
    // The id is set by the same process, so no kill of netlab can leave the namespace without it.
    if (c.nsid !== undefined) lines.push(`netns set ${c.netns} ${c.nsid}`);
    return lines.map((line) => ({ tool: 'ip', line }));
  },
  summary: (c) => `netns ${c.netns}`,
  opensNamespace: (c) => c.action === 'create',
  reachesAcross: true,
  dependsOn(c, index) {
    // A veth end in a kept namespace whose peer is in this one is deleted first, and at once;
    // the kernel would only clean it up some time after the namespace goes.
    if (c.action !== 'delete') return [];
    return [...index.all((o) => o.kind === 'link'), ...index.sameNode(c, (o) => o.kind === 'processes')];
  },
};
