// A node's resolv.conf, at /etc/netns/<netns>/resolv.conf where `ip netns exec` binds it.
import type { NodeState } from '../model/types.js';
import { ETC_NETNS } from '../model/paths.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type DnsChange = ChangeBase & { kind: 'dns'; content?: string };

export function resolvConfPath(netns: string | null): string {
  return `${ETC_NETNS}/${netns}/resolv.conf`;
}

/** The file as the file wants it against what is there; also for a node gone from the file. */
export function diffResolvConf(want: NodeState | undefined, have: NodeState, emit: NodeDiff['emit']): void {
  const base = { node: have.node, netns: have.netns, kind: 'dns' as const };
  if (want?.resolvConf === have.resolvConf && !(want?.resolvConf === undefined && have.etcDirLeft)) return;
  if (want?.resolvConf === undefined) {
    const reason = have.resolvConf === undefined ? `an empty /etc/netns/${have.netns} is left` : `/etc/netns/${have.netns}/resolv.conf is not in the file`;
    emit({ ...base, action: 'delete', reason });
  } else {
    const action = have.resolvConf === undefined ? 'create' : 'update';
    emit({ ...base, action, content: want.resolvConf, reason: action === 'create' ? 'resolv.conf missing' : 'resolv.conf differs from the file' });
  }
}

export const dnsResource: NodeResource<DnsChange> = {
  kind: 'dns',
  plural: 'resolv.conf',
  id: (c) => `dns/${c.node}`,
  scope: (c) => ({ tool: 'file', netns: c.netns }),
  commands: (c) =>
    c.action === 'delete'
      ? [{ tool: 'file', op: 'remove', path: resolvConfPath(c.netns) }]
      : [{ tool: 'file', op: 'write', path: resolvConfPath(c.netns), content: c.content ?? '' }],
  summary: (c) => `resolv.conf of ${c.node} (/etc/netns/${c.netns}/resolv.conf)`,
  diff: (n) => diffResolvConf(n.want, n.current, n.emit),
};
