// A sysctl of a node's namespace, written with `sysctl -w` and read back with `sysctl`.
import { ALWAYS_THERE, interfaceOfKey, sysctlIdentity } from '../model/forwarding.js';
import { sortedKeys } from '../model/types.js';
import { dadChanges } from './dad.js';
import type { ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type SysctlChange = ChangeBase & {
  kind: 'sysctl';
  key: string;
  value: string;
  /** Written before the node's new links come up (see dad.ts): the node's ip changes wait for it. */
  beforeUp?: boolean;
  /** Interface keys the write resets (all.forwarding), set back to their own values after it. */
  restore?: Record<string, string>;
};

/** The interface a per-interface sysctl is about ("net.ipv4.conf.eth0.rp_filter" → eth0), if any. */
export function sysctlInterface(key: string): string | undefined {
  const match = /^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\./.exec(key);
  const dev = match?.[1]?.replace(/\//g, '.');
  return dev === undefined || dev === 'all' || dev === 'default' ? undefined : dev;
}

/** After the write, the interfaces' own values it reset, for interfaces still there. */
function restoredInterfaces(key: string, n: NodeDiff): Record<string, string> | undefined {
  const entries = Object.entries(n.facts.interfaceSysctls[key] ?? {}).filter(([k]) => {
    const dev = interfaceOfKey(k);
    return dev !== undefined && (ALWAYS_THERE.includes(dev) || n.present.has(dev));
  });
  return entries.length > 0 ? Object.fromEntries(entries.sort()) : undefined;
}

export const sysctlResource: NodeResource<SysctlChange> = {
  kind: 'sysctl',
  plural: 'sysctls',
  id: (c) => `sysctl/${c.node}/${c.key}`,
  scope: (c) => ({ tool: 'sysctl', netns: c.netns }),
  // In order, by one sysctl process: the interfaces' own values go back after the write resets them.
  commands: (c) => [`${c.key}=${c.value}`, ...Object.entries(c.restore ?? {}).map(([k, v]) => `${k}=${v}`)].map((assignment) => ({ tool: 'sysctl', assignment })),
  summary: (c) => `sysctl on ${c.node}: ${c.key} = ${c.value}`,
  dependsOn(c, index) {
    const dev = sysctlInterface(c.key);
    return dev ? [index.linkMade(c.node, dev)] : [];
  },

  diff(n: NodeDiff) {
    const { want, current: have } = n;
    for (const change of dadChanges(want, [...n.links.recreated].sort().map((name) => want.links.get(name)!))) n.emit(change);
    // Outside its own namespaces the lab puts back what it found, once the file stops setting it.
    for (const [key, value] of Object.entries(n.facts.sysctlOriginals).sort()) {
      if (want.sysctls.has(key) || have.sysctls.get(key) === value || n.facts.sysctlsHeldByOthers.has(sysctlIdentity(key))) continue;
      const restore = restoredInterfaces(key, n);
      const also = restore ? `; then ${Object.keys(restore).map(interfaceOfKey).join(', ')} get their own values back, which the write resets` : '';
      n.emit({ node: want.node, netns: want.netns, kind: 'sysctl', action: 'update', key, value, ...(restore ? { restore } : {}), reason: `${key}: back to ${value}, its value before the lab${also}` });
    }
    for (const key of sortedKeys(want.sysctls)) {
      const value = want.sysctls.get(key)!;
      const current = have.sysctls.get(key);
      if (current === value) continue;
      const action = current === undefined ? 'create' : 'update';
      n.emit({ node: want.node, netns: want.netns, kind: 'sysctl', action, key, value, reason: current === undefined ? `${key} not set yet` : `${key} is ${current}, the file says ${value}` });
    }
  },
};
