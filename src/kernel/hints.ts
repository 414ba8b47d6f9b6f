// What a kernel command's failure usually means, for the messages people act on: a missing kernel
// feature or module is named as such instead of left as "Operation not supported".
export interface Hint {
  pattern: RegExp;
  hint: string;
}

const HINTS: readonly Hint[] = [
  { pattern: /Unknown device type|Operation not supported.*(veth|bridge)|veth.*not supported/i, hint: 'this kernel lacks that link type: veth needs CONFIG_VETH, a bridge CONFIG_BRIDGE (modprobe veth / modprobe bridge, or a kernel built with them)' },
  { pattern: /Could not process rule: No such file or directory|Could not process rule: Operation not supported/i, hint: 'this kernel lacks an nftables feature the rules use (nf_tables, nft_nat, nft_masq, nft_fib, nft_reject: modprobe nft_nat, ...)' },
  { pattern: /cannot stat \/proc\/sys\/net\/[^:]*: No such file or directory/i, hint: 'no such sysctl in this kernel or for this interface: check its name (interface names with a dot are written with "/" in sysctl names)' },
  { pattern: /Permission denied|Operation not permitted/i, hint: 'netlab needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) for namespaces, links and mounts' },
  { pattern: /File exists/i, hint: 'something of that name is already there; `netlab plan` shows what the lab sees' },
  { pattern: /Nexthop has invalid gateway|Network is unreachable/i, hint: "the gateway is not on a subnet of the route's interface, or that interface is down" },
];

export function hintFor(stderr: string): string | undefined {
  return HINTS.find((h) => h.pattern.test(stderr))?.hint;
}

/** The iproute2 release `ip -V` names ("ip utility, iproute2-6.1.0") as [major, minor]. */
export function iproute2Version(text: string): [number, number] | undefined {
  const m = /iproute2-(?:ss)?v?(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** JSON for routes and `-batch` with JSON, which the reads rely on, are in iproute2 5.0 and later. */
export const MIN_IPROUTE2: [number, number] = [5, 0];

export function isTooOld(version: [number, number]): boolean {
  return version[0] < MIN_IPROUTE2[0] || (version[0] === MIN_IPROUTE2[0] && version[1] < MIN_IPROUTE2[1]);
}
