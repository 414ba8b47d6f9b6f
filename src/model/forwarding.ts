// The kernel's forwarding switches: writing `net.ipv4.ip_forward` (`net.ipv4.conf.all.forwarding`)
// or `net.ipv6.conf.all.forwarding` sets every interface's own `conf.IF.forwarding`, and the
// `default` one, to the same value. Putting such a key back therefore resets interfaces the lab
// does not own; their own values are recorded and set again after the write. Pure.

/** The interface keys a write of `key` resets, as a template with `*` for the interface; undefined for other keys. */
export function interfaceKeysResetBy(key: string): string | undefined {
  if (key === 'net.ipv4.ip_forward' || key === 'net.ipv4.conf.all.forwarding') return 'net.ipv4.conf.*.forwarding';
  if (key === 'net.ipv6.conf.all.forwarding') return 'net.ipv6.conf.*.forwarding';
  return undefined;
}

/** sysctl writes a dot in an interface name as a slash: eth0.100 → net.ipv4.conf.eth0/100.forwarding. */
export function interfaceKey(template: string, ifname: string): string {
  return template.replace('*', ifname.replace(/\./g, '/'));
}

/** The interface an interface key names ("net.ipv6.conf.eth0/100.forwarding" → "eth0.100"). */
export function interfaceOfKey(key: string): string | undefined {
  return /^net\.ipv[46]\.conf\.([^.]+)\./.exec(key)?.[1]?.replace(/\//g, '.');
}

/** Interfaces whose key is there whatever links the lab reads: the template's own and lo. */
export const ALWAYS_THERE = ['default', 'lo'];

/** `net.ipv4.ip_forward` and `net.ipv4.conf.all.forwarding` are one value in the kernel. */
export function sysctlIdentity(key: string): string {
  return key === 'net.ipv4.conf.all.forwarding' ? 'net.ipv4.ip_forward' : key;
}
