// Property: take a lab that works, break it at random (delete or rename a key, change a value's
// type, duplicate a list item, swap link endpoints, rename a node or interface to unicode or
// shell-looking text, push numbers out of range, add unknown keys), write it back as YAML and
// load it. parseLab never throws; the result is either a valid spec (no errors) or errors that
// each point at file:line:col; a valid spec resolves (resolveLab) without throwing.
//
// Deterministic: a fixed seed and a fixed number of runs, so a failure here fails the same way on
// every machine (fast-check prints the seed and the path of the smallest failing case).
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseLab } from '../../src/config/load.js';
import { hasErrors } from '../../src/diagnostics.js';
import { resolveLab } from '../../src/model/resolve.js';
import { EXTREME_NUMBERS, seeds, WEIRD_NAMES } from '../fixtures/corpus/corpus.js';
import { checkLoaded } from '../helpers/diagnostics.js';

// NETLAB_MUTATION_SEED / NETLAB_MUTATION_RUNS explore further by hand; CI keeps these.
const SEED = Number(process.env.NETLAB_MUTATION_SEED ?? 20240611);
const RUNS = Number(process.env.NETLAB_MUTATION_RUNS ?? 500);

// ───────────────────────────── the documents ─────────────────────────────

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

/** The labs that work, as plain data: the starting points. */
const LABS: Array<{ id: string; data: Json }> = seeds().map((seed) => {
  const loaded = parseLab(seed.text, seed.id, { env: { APP_PID: '4242' } });
  if (!loaded.spec) throw new Error(`${seed.id} is not a valid lab: ${JSON.stringify(loaded.diagnostics)}`);
  return { id: seed.id, data: JSON.parse(JSON.stringify(loaded.spec)) as Json };
});

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every value below the root, with its path, in a stable order. */
function paths(value: Json, path: Segment[] = []): Array<{ path: Segment[]; value: Json }> {
  const children: Array<[Segment, Json]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isObject(value)
      ? Object.keys(value).map((k) => [k, value[k]!])
      : [];
  return children.flatMap(([seg, v]) => [{ path: [...path, seg], value: v }, ...paths(v, [...path, seg])]);
}

function get(root: Json, path: Segment[]): Json {
  let v: Json = root;
  for (const seg of path) v = (v as Record<string | number, Json>)[seg]!;
  return v;
}

/** An own, enumerable property even for "__proto__" (plain assignment would set the prototype). */
function put(object: { [key: string]: Json }, key: string, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The same mapping with one key renamed, in the same place. */
function renamed(object: { [key: string]: Json }, from: string, to: string): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(object)) {
    if (key === to && key !== from) continue;
    put(out, key === from ? to : key, object[key]!);
  }
  return out;
}

function setAt(root: Json, path: Segment[], value: Json): Json {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent[last as number] = value;
  else if (isObject(parent)) put(parent, String(last), value);
  return root;
}

const pick = <T>(items: readonly T[], n: number): T | undefined => (items.length === 0 ? undefined : items[n % items.length]);

// ───────────────────────────── mutations ─────────────────────────────

/** Text that names or keys may become: typos, shell, unicode, the corpus's weird names. */
const nameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...WEIRD_NAMES),
  fc.constantFrom('eth0', 'br0', 'host', 'c0', 'c1', 'lo', 'default', 'mtu', 'mut', 'adresses', 'Name', '<<', 'toString', 'hasOwnProperty'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);

/** A raw number at or past the edges of every range of the format. */
const numberArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, 0, 1, 67, 68, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 + 2, 1e308, -1e308, 1.5, -0, Number.NaN, Infinity, -Infinity, 5e-324),
  fc.integer(),
  fc.double(),
  fc.constantFrom(...EXTREME_NUMBERS.map(Number)),
);

/** Any value of any type, small. */
const valueArb: fc.Arbitrary<Json> = fc.oneof(
  { maxDepth: 2 },
  fc.constant(null),
  fc.boolean(),
  numberArb,
  nameArb,
  fc.constantFrom<Json>([], {}, ['a:eth0', 'b:eth0'], { addresses: ['10.0.0.1/24'] }, [{}], 'yes', 'default', '10.0.0.1/24', '2001:db8::1'),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

type Mutation =
  | { kind: 'delete-key'; at: number; key: number }
  | { kind: 'rename-key'; at: number; key: number; name: string }
  | { kind: 'retype'; at: number; value: Json }
  | { kind: 'duplicate-item'; at: number; item: number }
  | { kind: 'swap-endpoints'; a: number; b: number; endA: number; endB: number }
  | { kind: 'rename-node'; node: number; name: string; everywhere: boolean }
  | { kind: 'rename-interface'; at: number; name: string; everywhere: boolean }
  | { kind: 'out-of-range'; at: number; value: number }
  | { kind: 'unknown-key'; at: number; name: string; value: Json };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete-key' as const), at: fc.nat(), key: fc.nat() }),
  fc.record({ kind: fc.constant('rename-key' as const), at: fc.nat(), key: fc.nat(), name: nameArb }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat(), value: valueArb }),
  fc.record({ kind: fc.constant('duplicate-item' as const), at: fc.nat(), item: fc.nat() }),
  fc.record({ kind: fc.constant('swap-endpoints' as const), a: fc.nat(), b: fc.nat(), endA: fc.nat(1), endB: fc.nat(1) }),
  fc.record({ kind: fc.constant('rename-node' as const), node: fc.nat(), name: nameArb, everywhere: fc.boolean() }),
  fc.record({ kind: fc.constant('rename-interface' as const), at: fc.nat(), name: nameArb, everywhere: fc.boolean() }),
  fc.record({ kind: fc.constant('out-of-range' as const), at: fc.nat(), value: numberArb }),
  fc.record({ kind: fc.constant('unknown-key' as const), at: fc.nat(), name: nameArb, value: valueArb }),
);

const NUMERIC_KEYS = new Set(['mtu', 'port', 'metric', 'pid']);

/** The endpoint strings of a link, wherever its form keeps them. */
function endpointsOf(link: Json): Json[] | undefined {
  if (Array.isArray(link)) return link;
  if (isObject(link) && Array.isArray(link.endpoints)) return link.endpoints;
  return undefined;
}

/** Replaces node `from` by `to` in every "node:ifname" text and node reference of the lab. */
function renameNodeReferences(root: Json, from: string, to: string): void {
  if (!isObject(root)) return;
  for (const link of Array.isArray(root.links) ? root.links : []) {
    const ends = endpointsOf(link);
    ends?.forEach((end, i) => {
      if (typeof end === 'string' && end.startsWith(`${from}:`)) ends[i] = `${to}${end.slice(from.length)}`;
    });
  }
  for (const test of Array.isArray(root.tests) ? root.tests : []) {
    if (!isObject(test)) continue;
    for (const key of ['from', 'ping'] as const) if (test[key] === from) test[key] = to;
    if (typeof test.serve === 'string' && test.serve.startsWith(`${from}:`)) test.serve = `${to}${test.serve.slice(from.length)}`;
  }
}

/** Applies one mutation in place (or returns a new root); a mutation that finds nothing to change does nothing. */
function mutate(root: Json, m: Mutation): Json {
  const all = paths(root);
  const maps = [{ path: [] as Segment[], value: root }, ...all].filter((p) => isObject(p.value));
  switch (m.kind) {
    case 'delete-key': {
      const map = pick(maps, m.at);
      const object = map?.value as { [key: string]: Json } | undefined;
      const key = object && pick(Object.keys(object), m.key);
      if (object && key !== undefined) delete object[key];
      return root;
    }
    case 'rename-key': {
      const map = pick(maps, m.at);
      const object = map?.value as { [key: string]: Json } | undefined;
      const key = object && pick(Object.keys(object), m.key);
      if (!map || !object || key === undefined) return root;
      return setAt(root, map.path, renamed(object, key, m.name));
    }
    case 'retype': {
      const target = pick(all, m.at);
      return target ? setAt(root, target.path, m.value) : root;
    }
    case 'duplicate-item': {
      const list = pick(
        all.filter((p) => Array.isArray(p.value) && p.value.length > 0),
        m.at,
      );
      if (!list) return root;
      const items = list.value as Json[];
      const i = m.item % items.length;
      items.splice(i + 1, 0, JSON.parse(JSON.stringify(items[i])) as Json);
      return root;
    }
    case 'swap-endpoints': {
      const links = isObject(root) && Array.isArray(root.links) ? root.links : [];
      const a = endpointsOf(pick(links, m.a) ?? null);
      const b = endpointsOf(pick(links, m.b) ?? null);
      if (!a || !b || a.length === 0 || b.length === 0) return root;
      const [i, j] = [m.endA % a.length, m.endB % b.length];
      [a[i], b[j]] = [b[j]!, a[i]!];
      return root;
    }
    case 'rename-node': {
      if (!isObject(root) || !isObject(root.nodes)) return root;
      const from = pick(Object.keys(root.nodes), m.node);
      if (from === undefined) return root;
      root.nodes = renamed(root.nodes, from, m.name);
      if (m.everywhere) renameNodeReferences(root, from, m.name);
      return root;
    }
    case 'rename-interface': {
      const devices = all.filter((p) => (p.path.at(-1) === 'interfaces' || p.path.at(-1) === 'bridges') && isObject(p.value));
      const section = pick(devices, m.at);
      const object = section?.value as { [key: string]: Json } | undefined;
      const from = object && pick(Object.keys(object), m.at);
      if (!section || !object || from === undefined) return root;
      setAt(root, section.path, renamed(object, from, m.name));
      const node = section.path[1];
      if (m.everywhere && isObject(root) && Array.isArray(root.links)) {
        for (const link of root.links) {
          const ends = endpointsOf(link);
          ends?.forEach((end, i) => {
            if (end === `${String(node)}:${from}`) ends[i] = `${String(node)}:${m.name}`;
          });
        }
      }
      return root;
    }
    case 'out-of-range': {
      const numeric = all.filter((p) => typeof p.value === 'number' || NUMERIC_KEYS.has(String(p.path.at(-1))));
      const target = pick(numeric, m.at) ?? pick(all, m.at);
      return target ? setAt(root, target.path, m.value) : root;
    }
    case 'unknown-key': {
      const map = pick(maps, m.at);
      if (map) put(map.value as { [key: string]: Json }, m.name, m.value);
      return root;
    }
  }
}

// ───────────────────────────── the property ─────────────────────────────

const outcomes = { valid: 0, invalid: 0, mutations: 0, labs: new Set<string>() };

describe('random mutations of the valid labs', () => {
  afterAll(() => {
    // The numbers behind "the generator reaches both sides": shown in the test log.
    console.info(
      `mutation property: ${RUNS} runs (seed ${SEED}) over ${outcomes.labs.size} labs, ${outcomes.mutations} mutations: ` +
        `${outcomes.valid} still valid, ${outcomes.invalid} with errors`,
    );
  });

  it(`never throw, and end valid or with errors at file:line:col (${RUNS} runs, seed ${SEED})`, () => {
    expect(LABS.length).toBeGreaterThanOrEqual(8);
    fc.assert(
      fc.property(fc.nat(LABS.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (labIndex, mutations) => {
        const lab = LABS[labIndex]!;
        let data = JSON.parse(JSON.stringify(lab.data)) as Json;
        for (const m of mutations) data = mutate(data, m);
        const text = stringify(data, { lineWidth: 0 });
        const loaded = parseLab(text, 'mutated.yaml');
        const problems = checkLoaded(loaded, 'mutated.yaml', text);
        for (const d of loaded.diagnostics) if (d.severity === 'error' && d.line < 1) problems.push(`error without a line: ${d.message}`);
        if (problems.length > 0) throw new Error(`${lab.id} after ${JSON.stringify(mutations)}:\n${problems.join('\n')}\n--- YAML ---\n${text}`);
        if (loaded.spec) {
          expect(hasErrors(loaded.diagnostics)).toBe(false);
          resolveLab(loaded.spec);
          outcomes.valid++;
        } else {
          outcomes.invalid++;
        }
        outcomes.mutations += mutations.length;
        outcomes.labs.add(lab.id);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
    // A generator that only ever breaks labs (or never does) would test half of the property.
    expect(outcomes.valid).toBeGreaterThan(0);
    expect(outcomes.invalid).toBeGreaterThan(RUNS / 2);
  });
});
