// Medians, ratios and the per-namespace scaling, as a table for people and JSON for tools.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Lab } from './labs.js';
import { formatMs, median } from './timing.js';
import { ROWS, type Row, type Sample } from './tools.js';

type NetlabOp = 'apply' | 'plan' | 'destroy';

/** Everything measured on one lab, run by run. */
export class LabResult {
  readonly runs = new Map<Row, number[]>();
  readonly rssKb = new Map<NetlabOp, number[]>();
  readonly failures: string[] = [];
  constructor(readonly lab: Lab) {}

  add(samples: Sample[]): void {
    for (const s of samples) {
      this.runs.set(s.row, [...(this.runs.get(s.row) ?? []), s.ms]);
      const op = s.row.startsWith('netlab ') ? (s.row.slice(7) as NetlabOp) : undefined;
      if (op && s.maxRssKb !== undefined) this.rssKb.set(op, [...(this.rssKb.get(op) ?? []), s.maxRssKb]);
    }
  }

  median(row: Row): number | null {
    const v = this.runs.get(row);
    return v?.length ? median(v) : null;
  }
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
const sum = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
const round = (x: number | null, digits = 2) => (x === null ? null : Number(x.toFixed(digits)));

function ratios(r: LabResult) {
  const floorUp = r.median('floor up');
  return {
    'netlab apply / floor up': ratio(r.median('netlab apply'), floorUp),
    'netlab plan / floor up': ratio(r.median('netlab plan'), floorUp),
    'netlab destroy / floor up': ratio(r.median('netlab destroy'), floorUp),
    // netlab leaves IPv6 link-local off in a lab without IPv6: this floor does the same.
    'netlab apply / floor up, no link-local': ratio(r.median('netlab apply'), r.median('floor up, no link-local')),
    '(netlab apply+destroy) / Mininet': ratio(sum(r.median('netlab apply'), r.median('netlab destroy')), r.median('Mininet up+down')),
  };
}

/** Time per namespace of each "up" at the smallest and largest star: a ratio near 1 means linear scaling. */
function scaling(results: LabResult[]) {
  const stars = results.filter((r) => r.lab.kind === 'star').sort((a, b) => a.lab.size - b.lab.size);
  const small = stars[0];
  const large = stars[stars.length - 1];
  if (!small || !large || small === large) return [];
  return (['netlab apply', 'seed-style up', 'floor up', 'floor up, no link-local'] as const).flatMap((row) => {
    const a = small.median(row);
    const b = large.median(row);
    if (a === null || b === null) return [];
    const at = (r: LabResult, ms: number) => ({ size: r.lab.size, msPerNamespace: round(ms / r.lab.nodes.length, 3)! });
    return [{ row, small: at(small, a), large: at(large, b), ratio: round(b / large.lab.nodes.length / (a / small.lab.nodes.length))! }];
  });
}

export function toJson(results: LabResult[], meta: Record<string, unknown>) {
  return {
    ...meta,
    labs: results.map((r) => ({
      lab: r.lab.id,
      namespaces: r.lab.nodes.length,
      medianMs: Object.fromEntries(ROWS.filter((row) => r.runs.has(row)).map((row) => [row, round(r.median(row), 1)])),
      runsMs: Object.fromEntries([...r.runs].map(([row, v]) => [row, v.map((x) => round(x, 1))])),
      ratios: Object.fromEntries(Object.entries(ratios(r)).map(([k, v]) => [k, round(v, 3)])),
      netlabPeakRssMb: Object.fromEntries([...r.rssKb].map(([op, v]) => [op, round(Math.max(...v) / 1024, 1)])),
      failures: r.failures,
    })),
    perNamespaceApplyCost: scaling(results),
    variants: Object.fromEntries(variantRatios(results).map((v) => [v.label, round(v.value, 3)])),
  };
}

export function writeJson(path: string, json: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
}

/** Each variant's netlab apply against its base lab's: what the variant's extra kinds of object cost. */
function variantRatios(results: LabResult[]): Array<{ label: string; value: number | null }> {
  return results.flatMap((r) => {
    const base = results.find((b) => b.lab.id === r.lab.variantOf);
    return base ? [{ label: `netlab apply: ${r.lab.id} / ${base.lab.id}`, value: ratio(r.median('netlab apply'), base.median('netlab apply')) }] : [];
  });
}

export function toText(results: LabResult[], runs: number): string {
  const out: string[] = [];
  const line = (label: string, value: string, extra = '') => out.push(`  ${label.padEnd(38)} ${value.padStart(9)}${extra ? '   ' + extra : ''}`);
  for (const r of results) {
    out.push('', `${r.lab.id}: ${r.lab.description} (${r.lab.nodes.length} namespaces), median of ${runs} run(s)`);
    for (const row of ROWS) {
      const v = r.runs.get(row);
      if (v?.length) line(row, formatMs(median(v)), v.length > 1 ? `(${v.map(formatMs).join(', ')})` : '');
    }
    for (const [k, v] of Object.entries(ratios(r))) if (v !== null) line(k, `${v.toFixed(2)}×`);
    for (const [op, v] of r.rssKb) line(`netlab ${op} peak RSS (max of runs)`, `${(Math.max(...v) / 1024).toFixed(0)} MB`);
    for (const f of r.failures) out.push(`  FAILED: ${f.split('\n')[0]}`);
  }
  for (const v of variantRatios(results)) if (v.value !== null) out.push('', `  ${v.label.padEnd(38)} ${`${v.value.toFixed(2)}×`.padStart(9)}`);
  const scale = scaling(results);
  if (scale.length) {
    const { small, large } = scale[0]!;
    out.push('', `per-namespace "up" cost: star ${small.size} vs star ${large.size} (ms per namespace)`);
    for (const s of scale) line(s.row, `${s.small.msPerNamespace.toFixed(2)}`, `→ ${s.large.msPerNamespace.toFixed(2)}   ratio ${s.ratio.toFixed(2)}×`);
  }
  return out.join('\n');
}
