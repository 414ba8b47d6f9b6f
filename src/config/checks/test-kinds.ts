// The options of ping tests (size, df, count, loss, rtt), route tests (via, dev, source, mark),
// trace tests (path), and `within`, which any test may have: each value parsed as the test runner will, each key
// only where its kind of test reads it.
import { familyName, parseIp, type Family } from '../../model/ip.js';
import { parseDuration, parseMilliseconds, parsePercent } from '../../model/quantities.js';
import { kindOf } from '../../model/spec.js';
import type { Path } from '../problem.js';
import type { BoundsSpec, TestSpec } from '../spec.js';
import { didYouMean } from '../text.js';
import { addressesOf } from './addresses.js';
import { deviceList, devicesOf, nodeList, own, report, type Ctx } from './context.js';

const PING_KEYS = ['size', 'df', 'count', 'loss', 'rtt'] as const;
const ROUTE_KEYS = ['via', 'dev', 'source', 'mark'] as const;
/** ping prints a round trip only for echoes that carry its timestamp: 16 bytes or more. */
const SMALLEST_TIMED_SIZE = 16;

/** Keys that belong to another kind of test: "size is only for ping tests". */
export function checkKeysOfKind(ctx: Ctx, test: TestSpec, path: Path): void {
  if (test.ping === undefined) {
    for (const key of PING_KEYS) {
      if (test[key] !== undefined) report(ctx, [...path, key], `${key} is only for ping tests`, 'remove it, or make the test a ping', 'key');
    }
  }
  if (test.trace === undefined && test.path !== undefined) {
    report(ctx, [...path, 'path'], 'path is only for trace tests', 'remove it, or make the test a trace (trace: ADDR|NODE)', 'key');
  }
  if (test.route === undefined) {
    for (const key of ROUTE_KEYS) {
      if (test[key] !== undefined) report(ctx, [...path, key], `${key} is only for route tests`, 'remove it, or make the test a route test (route: ADDR)', 'key');
    }
  }
}

export function checkWithin(ctx: Ctx, within: string | undefined, path: Path): void {
  if (within === undefined) return;
  const seconds = parseDuration(within);
  const hint = 'e.g. within: 10s or within: 500ms (the time the test is tried again until it passes)';
  if (seconds === undefined) report(ctx, [...path, 'within'], `within ${JSON.stringify(within)} is not a duration`, hint);
  else if (seconds === 0) report(ctx, [...path, 'within'], `within ${within} leaves no time to try again`, hint);
}

export function checkPingOptions(ctx: Ctx, test: TestSpec, path: Path): void {
  if (test.loss !== undefined) {
    checkBounds(ctx, test.loss, [...path, 'loss'], { name: 'loss', parse: parsePercent, unit: '%', example: 'max: 5%', most: 100 });
    if (test.count === undefined) report(ctx, [...path, 'loss'], 'loss is measured over several echoes, and the test has no count', 'add count: e.g. count: 20', 'key');
  }
  if (test.rtt !== undefined) {
    checkBounds(ctx, test.rtt, [...path, 'rtt'], { name: 'rtt', parse: parseMilliseconds, unit: ' ms', example: 'max: 150ms' });
    if (test.size !== undefined && test.size < SMALLEST_TIMED_SIZE) {
      report(ctx, [...path, 'size'], `size ${test.size} is too small to time: ping measures a round trip only with ${SMALLEST_TIMED_SIZE} bytes or more`, `use size: ${SMALLEST_TIMED_SIZE} or more, or remove rtt`);
    }
  }
}

interface BoundsKind {
  name: string;
  parse: (text: string) => number | undefined;
  /** How a parsed value is written back in a message. */
  unit: string;
  example: string;
  most?: number;
}

function checkBounds(ctx: Ctx, bounds: BoundsSpec, path: Path, kind: BoundsKind): void {
  const values: Partial<Record<'min' | 'max', number>> = {};
  for (const side of ['min', 'max'] as const) {
    const text = bounds[side];
    if (text === undefined) continue;
    const value = kind.parse(text);
    if (value === undefined) {
      const what = kind.name === 'loss' ? 'a percentage' : 'a duration';
      report(ctx, [...path, side], `${kind.name} ${side} ${JSON.stringify(text)} is not ${what}`, `e.g. ${kind.name}: {${kind.example}}`);
    } else if (kind.most !== undefined && value > kind.most) {
      report(ctx, [...path, side], `${kind.name} ${side} ${text} is above ${kind.most}${kind.unit}`, `use 0${kind.unit}..${kind.most}${kind.unit}`);
    } else values[side] = value;
  }
  if (values.min !== undefined && values.max !== undefined && values.min > values.max) {
    report(ctx, [...path, 'min'], `${kind.name} min ${bounds.min} is above max ${bounds.max}`, 'min is the least that passes, max the most: swap them');
  }
}

/** A route test: a destination, and what the kernel must choose for it (via, dev, or both). */
export function checkRouteTest(ctx: Ctx, test: TestSpec, path: Path): void {
  const family = targetFamily(ctx, test.route!, [...path, 'route'], 'route');
  if (test.via === undefined && test.dev === undefined) {
    report(ctx, [...path, 'route'], `a route test needs via, dev or both: what the kernel must choose for ${test.route}`, `e.g. {from: ${test.from}, route: ${test.route}, via: 192.0.2.254, dev: eth0}`, 'key');
  }
  for (const key of ['via', 'source'] as const) {
    const text = test[key];
    if (text === undefined) continue;
    const ip = parseIp(text);
    if (!ip) report(ctx, [...path, key], `${key} ${JSON.stringify(text)} is not an IP address`, key === 'via' ? 'e.g. via: 192.0.2.254 (the gateway, no prefix length)' : 'e.g. source: 192.0.2.1 (an address of the node)');
    else if (family !== undefined && ip.family !== family) {
      report(ctx, [...path, key], `${key} ${ip.text} is ${familyName(ip.family)} but route ${test.route} is ${familyName(family)}`, `give an ${familyName(family)} ${key}`);
    }
  }
  const node = own(ctx.spec.nodes, test.from);
  if (test.dev !== undefined && node && kindOf(node) === 'netns') {
    const devices = devicesOf(ctx, test.from, node);
    if (!devices.has(test.dev)) {
      report(ctx, [...path, 'dev'], `dev ${test.dev} is not an interface or bridge of node ${test.from} (it has: ${deviceList(devices)})`, `name one of them${didYouMean(test.dev, [...devices])}`);
    }
  }
}

/**
 * A trace test: a target, and a path of nodes (or addresses outside the lab) that ends where the
 * target answers. An address a node holds is written as that node, as the result names it.
 */
export function checkTraceTest(ctx: Ctx, test: TestSpec, path: Path): void {
  targetFamily(ctx, test.trace!, [...path, 'trace'], 'trace');
  const example = `e.g. {from: ${test.from}, trace: ${test.trace}, path: [r1, r2, ${own(ctx.spec.nodes, test.trace!) ? test.trace : 'NODE'}]}`;
  if (test.path === undefined) {
    report(ctx, [...path, 'trace'], `a trace test needs path: the nodes a packet to ${test.trace} must cross, in order`, example, 'key');
    return;
  }
  if (test.path.length === 0) {
    report(ctx, [...path, 'path'], 'path is empty: a trace crosses at least the node that answers', example);
    return;
  }
  const names = Object.keys(ctx.spec.nodes);
  test.path.forEach((hop, i) => {
    const ip = parseIp(hop);
    if (ip) {
      const holder = names.find((name) => addressesOf(ctx, name).own.has(ip.text));
      if (holder) report(ctx, [...path, 'path', i], `path names ${hop}, an address of node ${holder}`, `write ${holder}: a trace names each hop by the node that holds its address`);
    } else if (!own(ctx.spec.nodes, hop)) {
      report(ctx, [...path, 'path', i], `path names ${JSON.stringify(hop)}, which is neither a node nor an IP address (nodes: ${nodeList(ctx)})`, `name a node of the lab${didYouMean(hop, names)}, or the address of a hop outside it`);
    }
  });
  const target = own(ctx.spec.nodes, test.trace!) ? test.trace! : names.find((name) => addressesOf(ctx, name).own.has(parseIp(test.trace!)?.text ?? ''));
  const lastHop = test.path[test.path.length - 1]!;
  const lastIsKnown = own(ctx.spec.nodes, lastHop) !== undefined || parseIp(lastHop) !== undefined;
  if (target !== undefined && lastIsKnown && lastHop !== target && test.expect !== 'fail') {
    report(ctx, [...path, 'path', test.path.length - 1], `path ends at ${lastHop}, but a trace to ${test.trace} ends where it answers: node ${target}`, `end the path with ${target}`);
  }
}

/**
 * The family of a ping or route target, an IP address or a node (its first address); undefined,
 * reported, when it is neither or the node has no address.
 */
export function targetFamily(ctx: Ctx, target: string, path: Path, kind: 'ping' | 'route' | 'trace'): Family | undefined {
  const ip = parseIp(target);
  if (ip) return ip.family;
  const node = own(ctx.spec.nodes, target);
  if (!node) {
    report(
      ctx,
      path,
      `${kind} target ${JSON.stringify(target)} is neither an IP address nor a node (nodes: ${nodeList(ctx)})`,
      `e.g. ${kind}: 172.18.0.20 or ${kind}: NODE${didYouMean(target, Object.keys(ctx.spec.nodes))}`,
    );
    return undefined;
  }
  const first = addressesOf(ctx, target).cidrs[0];
  if (!first) {
    const action = kind === 'ping' ? 'ping' : kind === 'trace' ? 'trace' : 'look a route up for';
    report(ctx, path, `node ${target} has no address to ${action}`, `give one of its interfaces an address, or ${action} an IP address`);
  }
  return first?.ip.family;
}
