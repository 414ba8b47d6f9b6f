// `throughput` tests: NODE:PORT of a node with an address (where netlab runs the iperf3 server),
// min and max as rates, and min and max only on them.
import { isPort } from '../../model/ip.js';
import { parseRate } from '../../model/impair.js';
import type { Path } from '../problem.js';
import type { TestSpec } from '../spec.js';
import { didYouMean } from '../text.js';
import { addressesOf } from './addresses.js';
import { nodeList, own, report, type Ctx } from './context.js';

const RATE_HINT = 'e.g. min: 8mbit (bit, kbit, mbit, gbit)';

export function checkThroughputTest(ctx: Ctx, test: TestSpec, path: Path): void {
  if (test.throughput === undefined) {
    for (const key of ['min', 'max'] as const) {
      if (test[key] !== undefined) report(ctx, [...path, key], `${key} is only for throughput tests`, 'remove it, or make the test a throughput test (throughput: NODE:PORT)', 'key');
    }
    return;
  }
  const at = [...path, 'throughput'];
  const match = /^([^:]+):(\d+)$/.exec(test.throughput);
  if (!match || !isPort(Number(match[2]))) {
    report(ctx, at, `throughput ${JSON.stringify(test.throughput)} is not NODE:PORT`, 'e.g. throughput: "b:5201" (the node where netlab runs the iperf3 server, and its port)');
  } else if (!own(ctx.spec.nodes, match[1]!)) {
    report(ctx, at, `throughput ${JSON.stringify(test.throughput)}: no node ${match[1]} (nodes: ${nodeList(ctx)})`, `name a node of the lab${didYouMean(match[1]!, Object.keys(ctx.spec.nodes))}`);
  } else if (addressesOf(ctx, match[1]!).cidrs.length === 0) {
    report(ctx, at, `node ${match[1]} has no address for the iperf3 client to reach`, 'give one of its interfaces an address');
  }
  const rates: Partial<Record<'min' | 'max', number>> = {};
  for (const key of ['min', 'max'] as const) {
    const text = test[key];
    if (text === undefined) continue;
    const rate = parseRate(String(text));
    if (rate === undefined) report(ctx, [...path, key], `${key} ${JSON.stringify(text)} is not a rate`, RATE_HINT);
    else rates[key] = rate;
  }
  if (test.min === undefined && test.max === undefined) report(ctx, at, 'a throughput test needs min, max or both: the rate that passes', `e.g. {from: ${test.from}, throughput: "${test.throughput}", min: 8mbit, max: 12mbit}`, 'key');
  if (rates.min !== undefined && rates.max !== undefined && rates.min > rates.max) report(ctx, [...path, 'min'], `min ${test.min} is above max ${test.max}`, 'min is the least that passes, max the most: swap them');
}
