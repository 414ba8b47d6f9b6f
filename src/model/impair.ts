// `impair:` as tc takes it: the file's rates, times and percentages parsed the way tc parses them,
// the root qdisc they make (tbf for a rate alone, netem for anything else), its tc options, and
// the same qdisc read back from `tc -j qdisc show`. Pure.
import { parsePercent } from './quantities.js';

/** The keys of `impair:`, in the order tc's netem takes them. */
export const IMPAIR_KEYS = ['delay', 'jitter', 'loss', 'duplicate', 'reorder', 'corrupt', 'rate'] as const;
export type ImpairKey = (typeof IMPAIR_KEYS)[number];

/** `impair:` as the file writes it; a bare number is taken in only to be reported (it lacks its unit). */
export type ImpairSpec = Partial<Record<ImpairKey, string | number>>;

/** An impairment in tc's own units: times in microseconds, shares in percent, the rate in bits per second. */
export interface Impairment {
  delay?: number;
  jitter?: number;
  loss?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
  rate?: number;
}

export type QdiscKind = 'tbf' | 'netem';

/**
 * netlab's root qdiscs carry this handle, 0x4d = 77, the protocol its routes carry: in a namespace
 * the lab does not own, a root qdisc with another handle is someone else's.
 */
export const LAB_QDISC_HANDLE = '4d:';

/** A root qdisc of one interface. Desired: the file's. Actual: any root qdisc but the kernel's own defaults. */
export interface QdiscState {
  dev: string;
  /** tc's name for it; actual qdiscs of other kinds (htb, cake, ...) are kept only to be left alone. */
  kind: string;
  handle: string;
  /** tbf and netem: what they do, parsed back. */
  impair?: Impairment;
  /** tbf, actual: bucket size in bytes and queue latency in microseconds. */
  burst?: number;
  latency?: number;
}

/** Root qdiscs the kernel gives an interface by itself: none of them is anybody's impairment. */
export const KERNEL_DEFAULT_QDISCS: ReadonlySet<string> = new Set(['noqueue', 'pfifo_fast', 'fq_codel', 'mq', 'fq', 'noop', 'pfifo', 'bfifo', 'sfq']);

const RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|tbit|kibit|mibit|gibit|tibit|bps|kbps|mbps|gbps|tbps|kibps|mibps|gibps|tibps)$/i;
const RATE_SCALE: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3, ti: 1024 ** 4 };

/** "10mbit" → 10 000 000 bits per second, as tc reads it (tc's "bps" units are bytes per second); undefined when tc would not take it. */
export function parseRate(text: string): number | undefined {
  const match = RATE.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2]!.toLowerCase();
  const bytes = unit.endsWith('bps');
  const scale = RATE_SCALE[unit.slice(0, -3)]!;
  const bits = Number(match[1]) * scale * (bytes ? 8 : 1);
  return bits >= 8 ? Math.round(bits) : undefined;
}

const TIME = /^(\d+(?:\.\d+)?)(us|usec|ms|msec|s|sec)$/;
const MICROS_PER: Record<string, number> = { us: 1, usec: 1, ms: 1000, msec: 1000, s: 1e6, sec: 1e6 };

/** "50ms" → 50 000 microseconds; undefined when it is no time tc takes (it needs a unit here). */
export function parseTime(text: string): number | undefined {
  const match = TIME.exec(text.trim());
  return match ? Math.round(Number(match[1]) * MICROS_PER[match[2]!]!) : undefined;
}

export function formatTime(us: number): string {
  if (us % 1_000_000 === 0 && us > 0) return `${us / 1_000_000}s`;
  if (us % 1000 === 0) return `${us / 1000}ms`;
  return `${us}us`;
}

export function formatRate(bits: number): string {
  for (const [unit, scale] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bits % scale === 0) return `${bits / scale}${unit}`;
  return `${bits}bit`;
}

function formatShare(percent: number): string {
  return `${Number(percent.toPrecision(6))}%`;
}

const TIME_KEYS: ReadonlySet<ImpairKey> = new Set(['delay', 'jitter']);
const SHARE_KEYS: ReadonlySet<ImpairKey> = new Set(['loss', 'duplicate', 'reorder', 'corrupt']);

/** The file's `impair:` in tc's units; a value that does not parse is left out (validation reports it). */
export function parseImpair(spec: ImpairSpec): Impairment {
  const out: Impairment = {};
  for (const key of IMPAIR_KEYS) {
    if (spec[key] === undefined) continue;
    const text = String(spec[key]);
    const value = TIME_KEYS.has(key) ? parseTime(text) : SHARE_KEYS.has(key) ? parsePercent(text) : parseRate(text);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A rate alone is a token bucket (tbf); anything else needs netem, which also takes a rate. */
export function qdiscKindOf(impair: Impairment): QdiscKind {
  return IMPAIR_KEYS.some((k) => k !== 'rate' && impair[k] !== undefined) ? 'netem' : 'tbf';
}

/** The keys set, in netem's order. */
export function impairKeys(impair: Impairment): ImpairKey[] {
  return IMPAIR_KEYS.filter((k) => impair[k] !== undefined);
}

/** How much a tbf may send at once: 10 ms of its rate, and never less than two full Ethernet frames. */
export function tbfBurst(rate: number): number {
  return Math.max(Math.ceil(rate / 8 / 100), 2 * 1514);
}

/** How long a packet may wait in a tbf's queue before it is dropped. */
export const TBF_LATENCY_US = 50_000;

/** The qdisc's options as tc takes them: "netem delay 50ms 5ms loss 1%", "tbf rate 10mbit burst 12500 latency 50ms". */
export function qdiscOptions(impair: Impairment): string {
  if (qdiscKindOf(impair) === 'tbf') return `tbf rate ${formatRate(impair.rate!)} burst ${tbfBurst(impair.rate!)} latency ${formatTime(TBF_LATENCY_US)}`;
  const words = ['netem'];
  // jitter without delay is refused by validation: tc writes it as delay's second value.
  if (impair.delay !== undefined) words.push('delay', formatTime(impair.delay), ...(impair.jitter !== undefined ? [formatTime(impair.jitter)] : []));
  for (const key of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) if (impair[key] !== undefined) words.push(key, formatShare(impair[key]!));
  if (impair.rate !== undefined) words.push('rate', formatRate(impair.rate));
  return words.join(' ');
}

/** "delay 50ms, jitter 5ms, rate 10mbit": the impairment as a person reads it. */
export function describeImpair(impair: Impairment): string {
  return impairKeys(impair)
    .map((k) => `${k} ${valueText(k, impair[k]!)}`)
    .join(', ');
}

function valueText(key: ImpairKey, value: number): string {
  return TIME_KEYS.has(key) ? formatTime(value) : SHARE_KEYS.has(key) ? formatShare(value) : formatRate(value);
}

/** tc rounds: shares to 2^-32, times to nanoseconds, rates to bytes. Within these, a value is the file's. */
function same(key: ImpairKey, a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (TIME_KEYS.has(key)) return Math.abs(a - b) <= 1;
  if (SHARE_KEYS.has(key)) return Math.abs(a - b) <= 1e-4;
  return Math.abs(a - b) <= 8;
}

/**
 * What differs between the file's qdisc and the one there, each said against the file: "delay is
 * 80ms, the file says 50ms". Empty when they match.
 */
export function qdiscDifferences(want: QdiscState, have: QdiscState): string[] {
  if (have.kind !== want.kind) return [`root qdisc of ${want.dev} is ${have.kind}, the file says ${want.kind} (${describeImpair(want.impair ?? {})})`];
  const w = want.impair ?? {};
  const h = have.impair ?? {};
  const out: string[] = [];
  for (const key of IMPAIR_KEYS) {
    if (same(key, w[key], h[key])) continue;
    if (h[key] === undefined) out.push(`${key} missing, the file says ${valueText(key, w[key]!)}`);
    else if (w[key] === undefined) out.push(`${key} ${valueText(key, h[key]!)} is not in the file`);
    else out.push(`${key} is ${valueText(key, h[key]!)}, the file says ${valueText(key, w[key]!)}`);
  }
  if (want.kind === 'tbf' && w.rate !== undefined && have.burst !== undefined) {
    const burst = tbfBurst(w.rate);
    if (Math.abs(have.burst - burst) > burst * 0.02 + 2) out.push(`burst is ${have.burst} bytes, netlab sets ${burst}`);
  }
  if (want.kind === 'tbf' && have.latency !== undefined && Math.abs(have.latency - TBF_LATENCY_US) > TBF_LATENCY_US * 0.05) {
    out.push(`latency is ${formatTime(have.latency)}, netlab sets ${formatTime(TBF_LATENCY_US)}`);
  }
  return out;
}

/**
 * netem keeps reorder, corrupt and rate from before when a replace leaves them out, so a netem
 * that loses one of them is made again (deleted, then added); any other change is a replace in place.
 */
export function replacesInPlace(want: QdiscState, have: QdiscState): boolean {
  if (have.handle !== LAB_QDISC_HANDLE) return true; // a root of another handle is grafted over
  if (have.kind !== want.kind) return false;
  if (want.kind !== 'netem') return true;
  return (['reorder', 'corrupt', 'rate'] as const).every((k) => have.impair?.[k] === undefined || want.impair?.[k] !== undefined);
}

/** The fields of `tc -j qdisc show` that netlab reads. */
export interface TcQdiscJson {
  kind?: string;
  handle?: string;
  dev?: string;
  root?: boolean;
  options?: {
    // tbf: bytes per second, bytes, microseconds
    rate?: number | { rate?: number };
    burst?: number;
    lat?: number;
    // netem: seconds and fractions
    delay?: { delay?: number; jitter?: number };
    'loss-random'?: { loss?: number };
    duplicate?: { duplicate?: number };
    reorder?: { reorder?: number };
    corrupt?: { corrupt?: number };
  };
}

/** A share as netem prints it (a fraction) in percent; an absent or zero one is none. */
function share(fraction: number | undefined): number | undefined {
  return fraction === undefined || fraction === 0 ? undefined : Number((fraction * 100).toPrecision(6));
}

function micros(seconds: number | undefined): number | undefined {
  return seconds === undefined || seconds === 0 ? undefined : Math.round(seconds * 1e6);
}

/** One root qdisc that is not the kernel's default, as `tc -j qdisc show` prints it; undefined for anything else. */
export function parseQdisc(json: TcQdiscJson): QdiscState | undefined {
  if (!json.root || !json.dev || !json.kind || KERNEL_DEFAULT_QDISCS.has(json.kind)) return undefined;
  const qdisc: QdiscState = { dev: json.dev, kind: json.kind, handle: json.handle ?? '' };
  const o = json.options ?? {};
  if (json.kind === 'tbf') {
    const rate = typeof o.rate === 'number' ? o.rate : undefined;
    qdisc.impair = rate === undefined ? {} : { rate: rate * 8 };
    if (o.burst !== undefined) qdisc.burst = o.burst;
    if (o.lat !== undefined) qdisc.latency = o.lat;
  } else if (json.kind === 'netem') {
    const rate = typeof o.rate === 'object' ? o.rate.rate : undefined;
    const impair: Impairment = {
      delay: micros(o.delay?.delay),
      jitter: micros(o.delay?.jitter),
      loss: share(o['loss-random']?.loss),
      duplicate: share(o.duplicate?.duplicate),
      reorder: share(o.reorder?.reorder),
      corrupt: share(o.corrupt?.corrupt),
      rate: rate ? rate * 8 : undefined,
    };
    qdisc.impair = Object.fromEntries(Object.entries(impair).filter(([, v]) => v !== undefined));
  }
  return qdisc;
}

/** An actual tbf or netem as the file would write it: the impair: keys export gives back. */
export function impairSpecOf(impair: Impairment): ImpairSpec {
  return Object.fromEntries(impairKeys(impair).map((k) => [k, valueText(k, impair[k]!)]));
}
