// The lab's tests: from a node, ping a node or address, or connect to ADDR:PORT (optionally
// served by a listener netlab starts).
import type { Path } from '../problem.js';
import { didYouMean } from '../text.js';
import { addressesOf } from './addresses.js';
import { nodeList, own, report, type Ctx } from './context.js';
import { isPort, parseHostPort, parseIp } from './ip.js';

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
    if (test.ping === undefined && test.connect === undefined) {
      report(ctx, path, 'the test has neither ping nor connect', 'add ping: ADDR|NODE or connect: ADDR:PORT');
    }
    if (test.ping !== undefined && test.connect !== undefined) {
      report(ctx, [...path, 'connect'], 'a test does ping or connect, not both', 'split it into two tests', 'key');
    }
    if (test.ping !== undefined) checkPingTarget(ctx, test.ping, [...path, 'ping']);
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

function checkPingTarget(ctx: Ctx, target: string, path: Path): void {
  if (parseIp(target)) return;
  const node = own(ctx.spec.nodes, target);
  if (!node) {
    report(
      ctx,
      path,
      `ping target ${JSON.stringify(target)} is neither an IP address nor a node (nodes: ${nodeList(ctx)})`,
      `e.g. ping: 172.18.0.20 or ping: NODE${didYouMean(target, Object.keys(ctx.spec.nodes))}`,
    );
  } else if (addressesOf(node).cidrs.length === 0) {
    report(ctx, path, `node ${target} has no address to ping`, `give one of its interfaces an address, or ping an IP address`);
  }
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
