// The `tests:` of a lab file become checks that name namespaces and addresses: a node name as a
// ping target becomes that node's first address, `serve: NODE:PORT` a listener in a namespace.
// Pure: the spec is already validated, so anything malformed here is a bug, not bad input.
import ipaddr from 'ipaddr.js';
import type { LabSpec, NodeSpec, TestSpec } from '../config/spec.js';
import type { Locate } from '../config/validate.js';
import { canonicalIp, familyOf, ipOfCidr } from '../model/ip.js';
import { namespaceName } from '../model/names.js';
import type { Family } from '../model/types.js';

export type Expectation = 'success' | 'fail';
export type Proto = 'tcp' | 'udp';

export interface PingCheck {
  kind: 'ping';
  address: string;
  family: Family;
}

export interface Listener {
  node: string;
  /** null: the machine's root namespace (a `kind: host` node). */
  netns: string | null;
  port: number;
}

export interface ConnectCheck {
  kind: 'connect';
  proto: Proto;
  address: string;
  family: Family;
  port: number;
  /** netlab runs a listener here for the duration of the test; the connect must read its reply. */
  serve?: Listener;
}

export interface LabTest {
  /** 1-based, in file order: "test 3" is the third item of tests:. */
  number: number;
  /** Where the test sits in the file; 0 when unknown. */
  line: number;
  col: number;
  /** What a person reads: "c0: ping c1 (172.18.0.20)". */
  label: string;
  from: string;
  /** null: the machine's root namespace (a `kind: host` node). */
  fromNetns: string | null;
  expect: Expectation;
  check: PingCheck | ConnectCheck;
}

/**
 * A node's first address: the first interface in file order that has one, else the first bridge
 * address; IPv4 or IPv6, whichever is written first. Undefined when the node has none.
 */
export function firstAddress(node: NodeSpec): string | undefined {
  for (const section of [node.interfaces, node.bridges]) {
    for (const settings of Object.values(section ?? {})) {
      const first = settings.addresses?.[0];
      if (first !== undefined) return canonicalIp(ipOfCidr(first));
    }
  }
  return undefined;
}

/** "ADDR:PORT" or "[V6]:PORT" → address and port; undefined when it is neither. */
export function parseConnect(text: string): { address: string; port: number } | undefined {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return isIp(match[1]!) ? { address: canonicalIp(match[1]!), port } : undefined;
}

/** "c0:11211" → node and port. */
export function parseServe(text: string): { node: string; port: number } | undefined {
  const match = /^([^:]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { node: match[1]!, port } : undefined;
}

/** The same rule as validation: four-part decimal IPv4, or IPv6 without zone or length. */
export function isIp(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || (!text.includes('%') && !text.includes('/') && ipaddr.IPv6.isValid(text));
}

/** Where a node's commands run: its namespace under /run/netns, or the root namespace for kind: host. */
export function netnsOf(spec: LabSpec, node: string): string | null {
  const nodeSpec = Object.hasOwn(spec.nodes, node) ? spec.nodes[node] : undefined;
  if (!nodeSpec) throw new Error(`test names node ${node}, which the lab does not have`);
  return nodeSpec.kind === 'host' ? null : namespaceName(spec.prefix, node);
}

function resolveOne(spec: LabSpec, test: TestSpec, number: number, position: { line: number; col: number }): LabTest {
  const base = { number, ...position, from: test.from, fromNetns: netnsOf(spec, test.from), expect: test.expect ?? 'success' } as const;
  if (test.ping !== undefined) {
    // An IP address is taken as one, as validation does; anything else is a node name.
    const address = isIp(test.ping) ? canonicalIp(test.ping) : firstAddress(spec.nodes[test.ping] ?? {});
    if (address === undefined) throw new Error(`test ${number}: node ${test.ping} has no address to ping`);
    const label = address === test.ping ? `${test.from}: ping ${address}` : `${test.from}: ping ${test.ping} (${address})`;
    return { ...base, label, check: { kind: 'ping', address, family: familyOf(address) } };
  }
  if (test.connect !== undefined) {
    const target = parseConnect(test.connect);
    if (!target) throw new Error(`test ${number}: connect ${JSON.stringify(test.connect)} is not ADDR:PORT`);
    const proto = test.proto ?? 'tcp';
    const served = test.serve === undefined ? undefined : parseServe(test.serve);
    if (test.serve !== undefined && !served) throw new Error(`test ${number}: serve ${JSON.stringify(test.serve)} is not NODE:PORT`);
    const serve = served && { node: served.node, netns: netnsOf(spec, served.node), port: served.port };
    const family = familyOf(target.address);
    const where = family === 6 ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
    const label = `${test.from}: connect ${proto} ${where}${serve ? `, serve ${serve.node}:${serve.port}` : ''}`;
    return { ...base, label, check: { kind: 'connect', proto, address: target.address, family, port: target.port, serve } };
  }
  throw new Error(`test ${number} has neither ping nor connect`);
}

/** The lab's tests in file order; `locate` (from the loader) gives each its line. */
export function resolveTests(spec: LabSpec, locate?: Locate): LabTest[] {
  return (spec.tests ?? []).map((test, i) => resolveOne(spec, test, i + 1, locate ? locate(['tests', i]) : { line: 0, col: 0 }));
}

/**
 * Tests that share a listener (same node, protocol and port) cannot run at the same time; all
 * others are independent. Groups in order of their first test; each group runs in order.
 */
export function independentGroups(tests: readonly LabTest[]): LabTest[][] {
  const groups = new Map<string, LabTest[]>();
  for (const test of tests) {
    const c = test.check;
    const key = c.kind === 'connect' && c.serve ? `serve ${c.serve.netns ?? '(root)'} ${c.proto} ${c.serve.port}` : `test ${test.number}`;
    const group = groups.get(key);
    if (group) group.push(test);
    else groups.set(key, [test]);
  }
  return [...groups.values()];
}
