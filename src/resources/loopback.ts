// lo of a namespace the lab owns: up, and carrying the lab's ownership mark in its alias.
import { ownerMark } from '../model/names.js';
import type { ChangeBase, Resource } from './resource.js';

export type LoopbackChange = ChangeBase & { kind: 'loopback'; lab: string };

export const loopbackResource: Resource<LoopbackChange> = {
  kind: 'loopback',
  plural: "lo and the lab's ownership mark",
  id: (c) => `loopback/${c.node}`,
  scope: (c) => ({ tool: 'ip', netns: c.netns }),
  commands: (c) => [
    { tool: 'ip', line: 'link set dev lo up' },
    { tool: 'ip', line: `link set dev lo alias ${ownerMark(c.lab)}` },
  ],
  summary: (c) => `lo on ${c.node}: up, marked netlab:${c.lab}`,
  waitsForBeforeUp: true,
};
