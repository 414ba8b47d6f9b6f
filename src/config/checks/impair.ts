// `impair:` on interfaces and links: every value one tc takes (a time with its unit, a percentage,
// a rate in tc's units), and jitter and reorder only with the delay they work on.
import { IMPAIR_KEYS, parseRate, parseTime, type ImpairKey, type ImpairSpec } from '../../model/impair.js';
import { parsePercent } from '../../model/quantities.js';
import type { Path } from '../problem.js';
import { nodeEntries, report, type Ctx } from './context.js';

const EXAMPLE: Record<ImpairKey, string> = {
  delay: 'delay: 50ms (us, ms or s)',
  jitter: 'jitter: 5ms (us, ms or s)',
  loss: 'loss: 1% (0%..100%)',
  duplicate: 'duplicate: 0.1% (0%..100%)',
  reorder: 'reorder: 25% (0%..100%)',
  corrupt: 'corrupt: 0.1% (0%..100%)',
  rate: 'rate: 10mbit (bit, kbit, mbit, gbit; tc reads kbps and mbps as bytes per second)',
};

function problemWith(key: ImpairKey, value: string | number): string | undefined {
  const text = String(value);
  if (typeof value === 'number') return `${key} ${text} has no unit`;
  if (key === 'delay' || key === 'jitter') return parseTime(text) === undefined ? `${key} ${JSON.stringify(text)} is not a time tc takes` : undefined;
  if (key === 'rate') return parseRate(text) === undefined ? `rate ${JSON.stringify(text)} is not a rate tc takes` : undefined;
  const percent = parsePercent(text);
  if (percent === undefined) return `${key} ${JSON.stringify(text)} is not a percentage`;
  return percent > 100 ? `${key} ${text} is above 100%` : undefined;
}

export function checkImpair(ctx: Ctx, impair: ImpairSpec | undefined, path: Path): void {
  if (impair === undefined) return;
  for (const key of IMPAIR_KEYS) {
    const value = impair[key];
    if (value === undefined) continue;
    const problem = problemWith(key, value);
    if (problem) report(ctx, [...path, key], problem, `e.g. ${EXAMPLE[key]}`);
  }
  for (const key of ['jitter', 'reorder'] as const) {
    if (impair[key] === undefined || impair.delay !== undefined) continue;
    const why = key === 'jitter' ? 'jitter varies the delay' : 'netem reorders by sending some packets at once, ahead of the delayed others';
    report(ctx, [...path, key], `${key} needs delay: ${why}`, `add delay: e.g. delay: 10ms`, 'key');
  }
}

export function checkImpairs(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) checkImpair(ctx, iface.impair, ['nodes', name, 'interfaces', ifname, 'impair']);
  }
  (ctx.spec.links ?? []).forEach((link, i) => {
    if (!Array.isArray(link)) checkImpair(ctx, link.impair, ['links', i, 'impair']);
  });
}
