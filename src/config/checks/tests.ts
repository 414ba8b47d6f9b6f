// The lab's tests: from a node, ping a node or address, connect to ADDR:PORT (optionally
// served by a listener netlab starts), look up the route the kernel chooses, or trace the nodes
// a packet crosses.
import { isPort, parseHostPort } from '../../model/ip.js';
import type { Path } from '../problem.js';
import { didYouMean } from '../text.js';
import { nodeList, own, report, type Ctx } from './context.js';
import { checkThroughputTest } from './throughput.js';
import { checkKeysOfKind, checkPingOptions, checkRouteTest, checkTraceTest, checkWithin, targetFamily } from './test-kinds.js';

const TEST_KINDS = ['ping', 'connect', 'route', 'trace', 'throughput'] as const;

export function checkTests(ctx: Ctx): void {
  const names = Object.keys(ctx.spec.nodes);
  (ctx.spec.tests ?? []).forEach((test, i) => {
    const path = ['tests', i];
    if (!own(ctx.spec.nodes, test.from)) {
      report(
        ctx,
        [...path, 'from'],
        `no node ${test.from} (nodes: ${nodeList(ctx)})`,
        `from names the node the test runs in${didYouMean(test.from, names)}`,
      );
    }
    const kinds = TEST_KINDS.filter((kind) => test[kind] !== undefined);
    if (kinds.length === 0) {
      report(ctx, path, 'the test has no ping, connect, route, trace or throughput', 'add ping: ADDR|NODE, connect: ADDR:PORT, route: ADDR|NODE, trace: ADDR|NODE or throughput: NODE:PORT');
    }
    for (const extra of kinds.slice(1)) {
      report(ctx, [...path, extra], `a test does ${kinds[0]} or ${extra}, not both`, 'split it into two tests', 'key');
    }
    if (test.ping !== undefined) targetFamily(ctx, test.ping, [...path, 'ping'], 'ping');
    if (test.ping !== undefined) checkPingOptions(ctx, test, path);
    if (test.route !== undefined) checkRouteTest(ctx, test, path);
    if (test.trace !== undefined) checkTraceTest(ctx, test, path);
    checkKeysOfKind(ctx, test, path);
    checkThroughputTest(ctx, test, path);
    checkWithin(ctx, test.within, path);
    if (test.connect !== undefined && parseHostPort(test.connect)?.port === undefined) {
      report(
        ctx,
        [...path, 'connect'],
        `connect ${JSON.stringify(test.connect)} is not ADDR:PORT`,
        'e.g. connect: 198.51.100.100:1234, or connect: "[2001:db8::1]:80" for IPv6',
      );
    }
    if (test.serve !== undefined) checkServe(ctx, test.serve, test.connect !== undefined, [...path, 'serve']);
    if (test.proto !== undefined && test.connect === undefined) {
      report(ctx, [...path, 'proto'], 'proto is only for connect tests', 'remove proto, or add connect', 'key');
    }
  });
}

function checkServe(ctx: Ctx, serve: string, hasConnect: boolean, path: Path): void {
  if (!hasConnect) {
    report(
      ctx,
      path,
      'serve without connect has nothing to test',
      'add connect: ADDR:PORT, the address that reaches the listener',
      'key',
    );
  }
  const match = /^([^:]+):(\d+)$/.exec(serve);
  if (!match || !isPort(Number(match[2]))) {
    report(
      ctx,
      path,
      `serve ${JSON.stringify(serve)} is not NODE:PORT`,
      'e.g. serve: c0:11211 (the node and port where netlab runs the listener)',
    );
  } else if (!own(ctx.spec.nodes, match[1]!)) {
    report(
      ctx,
      path,
      `serve ${JSON.stringify(serve)}: no node ${match[1]} (nodes: ${nodeList(ctx)})`,
      `name a node of the lab${didYouMean(match[1]!, Object.keys(ctx.spec.nodes))}`,
    );
  }
}
