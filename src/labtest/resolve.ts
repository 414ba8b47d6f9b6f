// The `tests:` of a lab file become checks that name namespaces and addresses: a node name as a
// ping or route target becomes that node's first address, `serve: NODE:PORT` a listener in a
// namespace, durations and percentages numbers.
// Pure: the spec is already validated, so anything malformed here is a bug, not bad input.
import type { Locate } from '../config/validate.js';
import { canonicalIp, familyOf, ipOfCidr, isPort, parseIp, type Family } from '../model/ip.js';
import { layOut } from '../model/layout.js';
import { namespaceName } from '../model/names.js';
import { parseDuration, parseMilliseconds, parsePercent } from '../model/quantities.js';
import { parseRate } from '../model/impair.js';
import { kindOf, type BoundsSpec, type LabSpec, type NodeSpec, type TestSpec } from '../model/spec.js';
import type { ThroughputCheck } from './throughput.js';

export type Expectation = 'success' | 'fail';
export type Proto = 'tcp' | 'udp';

export interface PingCheck {
  kind: 'ping';
  address: string;
  family: Family;
  /** Payload bytes (ping -s); undefined: ping's default. */
  size?: number;
  /** Don't fragment (ping -M do). */
  df?: boolean;
  /** Echoes sent and judged together; undefined: one, sent until answered or the deadline. */
  count?: number;
  /** Percent of the echoes lost. */
  loss?: Bounds;
  /** Average round trip, in milliseconds. */
  rtt?: Bounds;
}

export interface Bounds {
  min?: number;
  max?: number;
}

/** What `ip route get ADDRESS [from SOURCE] [mark MARK]` must choose: via, dev or both. */
export interface RouteCheck {
  kind: 'route';
  address: string;
  family: Family;
  via?: string;
  dev?: string;
  source?: string;
  mark?: number;
}

/** A trace to an address: the nodes its packets cross, in order, must be `path`. */
export interface TraceCheck {
  kind: 'trace';
  address: string;
  family: Family;
  /** Node names (or addresses, for hops outside the lab), the last the target's. */
  path: string[];
  /** Each address of the lab → the node that holds it (an address two nodes hold is left out). */
  owners: Record<string, string>;
  /** The most TTLs tried: a few more than the path, so that a longer path shows how it goes on. */
  maxHops: number;
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
  /** Tried again until it passes or this many seconds have passed; undefined: tried once. */
  withinSeconds?: number;
  check: Check;
}

export type Check = PingCheck | ConnectCheck | RouteCheck | TraceCheck | ThroughputCheck;

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
  const ip = parseIp(match[1]!);
  return ip && isPort(port) ? { address: ip.text, port } : undefined;
}

/** "c0:11211" → node and port. */
export function parseServe(text: string): { node: string; port: number } | undefined {
  const match = /^([^:]+):(\d+)$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  return isPort(port) ? { node: match[1]!, port } : undefined;
}

/** The same rule as validation: four-part decimal IPv4, or IPv6 without zone or length. */
export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

/** Where a node's commands run: its namespace under /run/netns, or the root namespace for kind: host. */
export function netnsOf(spec: LabSpec, node: string): string | null {
  const nodeSpec = Object.hasOwn(spec.nodes, node) ? spec.nodes[node] : undefined;
  if (!nodeSpec) throw new Error(`test names node ${node}, which the lab does not have`);
  return kindOf(nodeSpec) === 'host' ? null : namespaceName(spec.prefix, node);
}

function resolveOne(spec: LabSpec, test: TestSpec, number: number, position: { line: number; col: number }): LabTest {
  const withinSeconds = test.within === undefined ? undefined : parseDuration(test.within);
  const base = { number, ...position, from: test.from, fromNetns: netnsOf(spec, test.from), expect: test.expect ?? 'success', withinSeconds } as const;
  const within = test.within === undefined ? '' : `, within ${test.within}`;
  if (test.ping !== undefined) {
    const target = resolveTarget(spec, test.ping, number);
    const check: PingCheck = { kind: 'ping', address: target.address, family: familyOf(target.address), size: test.size, df: test.df, count: test.count, loss: bounds(test.loss, parsePercent), rtt: bounds(test.rtt, parseMilliseconds) };
    return { ...base, label: `${test.from}: ping ${target.text}${pingOptionsText(test)}${within}`, check };
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
    const label = `${test.from}: connect ${proto} ${where}${serve ? `, serve ${serve.node}:${serve.port}` : ''}${within}`;
    return { ...base, label, check: { kind: 'connect', proto, address: target.address, family, port: target.port, serve } };
  }
  if (test.route !== undefined) {
    const target = resolveTarget(spec, test.route, number);
    const check: RouteCheck = {
      kind: 'route',
      address: target.address,
      family: familyOf(target.address),
      via: test.via === undefined ? undefined : canonicalIp(test.via),
      dev: test.dev,
      source: test.source === undefined ? undefined : canonicalIp(test.source),
      mark: test.mark,
    };
    return { ...base, label: `${test.from}: route ${target.text}${lookupText(check)} ${routeText(check)}${within}`, check };
  }
  if (test.trace !== undefined) {
    const target = resolveTarget(spec, test.trace, number);
    const path = (test.path ?? []).map((hop) => (parseIp(hop)?.text ?? hop));
    const check: TraceCheck = { kind: 'trace', address: target.address, family: familyOf(target.address), path, owners: addressOwners(spec), maxHops: path.length + EXTRA_HOPS };
    return { ...base, label: `${test.from}: trace ${target.text}, path ${path.join(' → ')}${within}`, check };
  }
  if (test.throughput !== undefined) {
    const served = parseServe(test.throughput);
    if (!served) throw new Error(`test ${number}: throughput ${JSON.stringify(test.throughput)} is not NODE:PORT`);
    const target = resolveTarget(spec, served.node, number);
    const rate = bounds({ min: test.min, max: test.max }, parseRate)!;
    const check: ThroughputCheck = { kind: 'throughput', address: target.address, port: served.port, server: { node: served.node, netns: netnsOf(spec, served.node), port: served.port }, rate };
    const limits = [test.min !== undefined ? `min ${test.min}` : '', test.max !== undefined ? `max ${test.max}` : ''].filter((p) => p !== '').join(' ');
    return { ...base, label: `${test.from}: throughput ${served.node}:${served.port} (${target.address})${limits ? `, ${limits}` : ''}${within}`, check };
  }
  throw new Error(`test ${number} has no ping, connect, route, trace or throughput`);
}

/** TTLs tried past the path's length before a trace gives up on reaching its target. */
const EXTRA_HOPS = 3;

/** Which node holds each address of the lab; an address on two nodes (isolated segments) names neither. */
export function addressOwners(spec: LabSpec): Record<string, string> {
  const owners = new Map<string, string | null>();
  for (const [node, placed] of layOut(spec).addresses) {
    for (const { parsed } of placed) {
      if (!('cidr' in parsed)) continue;
      const address = parsed.cidr.ip.text;
      const before = owners.get(address);
      owners.set(address, before === undefined || before === node ? node : null);
    }
  }
  return Object.fromEntries([...owners].filter((e): e is [string, string] => e[1] !== null));
}

/** An IP address is taken as one, as validation does; anything else is a node name. */
function resolveTarget(spec: LabSpec, target: string, number: number): { address: string; text: string } {
  const address = parseIp(target)?.text ?? firstAddress(spec.nodes[target] ?? {});
  if (address === undefined) throw new Error(`test ${number}: node ${target} has no address`);
  return { address, text: address === target ? address : `${target} (${address})` };
}

function bounds(spec: BoundsSpec | undefined, parse: (text: string) => number | undefined): Bounds | undefined {
  if (spec === undefined) return undefined;
  return { min: spec.min === undefined ? undefined : parse(spec.min), max: spec.max === undefined ? undefined : parse(spec.max) };
}

/** ", size 1472 df, count 50, loss max 5%, rtt min 90ms max 150ms", as the file writes them. */
function pingOptionsText(test: TestSpec): string {
  const parts: string[] = [];
  const packet = [test.size !== undefined ? `size ${test.size}` : '', test.df ? 'df' : ''].filter((p) => p !== '').join(' ');
  if (packet) parts.push(packet);
  if (test.count !== undefined) parts.push(`count ${test.count}`);
  for (const key of ['loss', 'rtt'] as const) {
    const b = test[key];
    if (b) parts.push([key, b.min !== undefined ? `min ${b.min}` : '', b.max !== undefined ? `max ${b.max}` : ''].filter((p) => p !== '').join(' '));
  }
  return parts.map((p) => `, ${p}`).join('');
}

/** " from 192.0.2.1 mark 7": what the lookup is asked with besides the destination. */
export function lookupText(check: RouteCheck): string {
  return `${check.source !== undefined ? ` from ${check.source}` : ''}${check.mark !== undefined ? ` mark ${check.mark}` : ''}`;
}

/** "via 192.0.2.254 dev eth0": what the kernel must choose. */
export function routeText(route: { via?: string; dev?: string }): string {
  return [route.via !== undefined ? `via ${route.via}` : '', route.dev !== undefined ? `dev ${route.dev}` : ''].filter((p) => p !== '').join(' ');
}

/** The lab's tests in file order; `locate` (from the loader) gives each its line. */
export function resolveTests(spec: LabSpec, locate?: Locate): LabTest[] {
  return (spec.tests ?? []).map((test, i) => resolveOne(spec, test, i + 1, locate ? locate(['tests', i]) : { line: 0, col: 0 }));
}

/**
 * Tests that share a listener (same node, protocol and port) cannot run at the same time, nor
 * traces from one node: a router sends ICMP errors to one address about once a second after a
 * burst of six, so traces at once would silence each other's hops. All others are independent.
 * Groups in order of their first test; each group runs in order.
 */
export function independentGroups(tests: readonly LabTest[]): LabTest[][] {
  const groups = new Map<string, LabTest[]>();
  for (const test of tests) {
    const c = test.check;
    // Throughput tests one after another: each measures best with the links to itself.
    const key =
      c.kind === 'connect' && c.serve
        ? `serve ${c.serve.netns ?? '(root)'} ${c.proto} ${c.serve.port}`
        : c.kind === 'trace'
          ? `trace ${test.fromNetns ?? '(root)'}`
          : c.kind === 'throughput'
            ? 'throughput'
            : `test ${test.number}`;
    const group = groups.get(key);
    if (group) group.push(test);
    else groups.set(key, [test]);
  }
  return [...groups.values()];
}

/**
 * The order a run takes: phases one after another, each a list of groups run at once. Throughput
 * tests come last, by themselves: each fills the links it crosses, and a ping beside it measures
 * the queue it builds (a 10mbit tbf's sub-millisecond round trip measured 51 ms so).
 */
export function testPhases(tests: readonly LabTest[]): LabTest[][][] {
  const isThroughput = (test: LabTest) => test.check.kind === 'throughput';
  const phases = [independentGroups(tests.filter((t) => !isThroughput(t))), independentGroups(tests.filter(isThroughput))];
  return phases.filter((groups) => groups.length > 0);
}
