// How netlab names what it creates. Pure and deterministic: the same file always gives the same names.
import { createHash } from 'node:crypto';

/** The kernel's limit for an interface name (IFNAMSIZ - 1). */
export const MAX_IFNAME_BYTES = 15;

/** Interface names the kernel accepts and no shell or iproute2 output mangles. */
export const IFNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Names the kernel keeps for its per-namespace interface settings. */
const RESERVED_IFNAMES: ReadonlySet<string> = new Set(['all', 'default']);

/** Node names become namespace names, file names under /run/netns and /etc/netns, and parts of interface names. */
export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export const LAB_NAME_PATTERN = /^[a-z][a-z0-9-]{0,23}$/;

/** The marker that a namespace belongs to a lab: the alias of its loopback device. */
export function ownerMark(lab: string): string {
  return `netlab:${lab}`;
}

export function labFromMark(alias: string | undefined): string | undefined {
  return alias?.startsWith('netlab:') ? alias.slice('netlab:'.length) : undefined;
}

export function namespaceName(prefix: string | undefined, node: string): string {
  return `${prefix ?? ''}${node}`;
}

/**
 * The route protocol netlab gives its routes (`ip route ... proto 77`), so that they can be told
 * from the machine's in a namespace the lab does not own. Unassigned in linux/rtnetlink.h.
 */
export const ROUTE_PROTOCOL = '77';

export interface Endpoint {
  node: string;
  ifname: string;
}

/** "c0:eth0" → {node: "c0", ifname: "eth0"}; undefined when there is no single ':'. */
export function parseEndpoint(text: string): Endpoint | undefined {
  const parts = text.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { node: parts[0], ifname: parts[1] };
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.node}:${e.ifname}`;
}

/**
 * The name of the veth end that a link creates inside a bridge's node, for a link written as
 * `[c0:eth0, host:br0]`: named after the far end ("c0-eth0"), so `ip link` in the bridge's node
 * says where each port leads. Too long for the kernel: "nl-" and a hash of the far end.
 */
export function bridgePortName(far: Endpoint): string {
  const readable = `${far.node}-${far.ifname}`;
  if (Buffer.byteLength(readable) <= MAX_IFNAME_BYTES) return readable;
  const hash = createHash('sha256').update(formatEndpoint(far)).digest('hex').slice(0, 8);
  return `nl-${hash}`;
}

export function ifnameProblem(name: string): string | undefined {
  if (Buffer.byteLength(name) > MAX_IFNAME_BYTES) {
    return `is ${Buffer.byteLength(name)} bytes; the kernel allows at most ${MAX_IFNAME_BYTES}`;
  }
  if (!IFNAME_PATTERN.test(name)) {
    return 'may only contain letters, digits, "_", "." and "-", and must start with a letter or digit';
  }
  // The kernel refuses them: they name its settings for every interface (net.ipv4.conf.all, …).
  if (RESERVED_IFNAMES.has(name)) return 'cannot be "all" or "default", which name the kernel\'s settings for every interface (net.ipv4.conf.all, net.ipv6.conf.default); use another name';
  return undefined;
}
