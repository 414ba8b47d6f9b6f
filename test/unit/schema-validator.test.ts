// The standalone validator that the build generates (scripts/build-schema-validator.mjs) against
// the schema compiled by ajv at run time, which the rest of the unit tests use (the sources have
// no generated file): for every document both must answer alike, with the same error objects
// (parentSchema, schema and data included, which the messages are worded from).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileSchema, schemaHash, standaloneSource } from '../../src/config/schema-compile.js';
import { SCHEMA_URL } from '../../src/config/validate.js';
import { corpus } from '../fixtures/corpus/corpus.js';

const schemaText = readFileSync(SCHEMA_URL, 'utf8');
const runtime = compileSchema(JSON.parse(schemaText) as object);

/** The generated CommonJS module, run in memory; its requires (ajv's runtime helpers) resolve from here. */
function loadStandalone(source: string): ValidateFunction & { schemaHash?: string } {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', source)(module, module.exports, createRequire(import.meta.url));
  return module.exports as ValidateFunction & { schemaHash?: string };
}
const source = standaloneSource(schemaText);
const generated = loadStandalone(source);

/** Both validators' answers for `data`: [valid, errors]. */
function both(data: unknown): { runtime: [boolean, unknown]; generated: [boolean, unknown] } {
  const r = runtime(data);
  const g = generated(data);
  return { runtime: [r, runtime.errors ?? null], generated: [g, generated.errors ?? null] };
}

const lab = (nodes: unknown, extra: Record<string, unknown> = {}): unknown => ({ name: 'lab', nodes, ...extra });

/** [name, document, a keyword that its errors must include]. */
const BAD: Array<[string, unknown, string]> = [
  ['unknown top-level key', { name: 'lab', nodes: {}, nodez: {} }, 'additionalProperties'],
  ['missing required key', { nodes: {} }, 'required'],
  ['wrong type at the top', { name: 'lab', nodes: [] }, 'type'],
  ['name against its pattern', { name: 'Bad_Name', nodes: {} }, 'pattern'],
  ['bad enum in a node', lab({ a: { kind: 'vm' } }), 'enum'],
  ['out-of-range pid', lab({ a: { kind: 'attach', pid: 0 } }), 'minimum'],
  ['unknown key in an interface', lab({ a: { interfaces: { eth0: { adresses: ['10.0.0.1/24'] } } } }), 'additionalProperties'],
  ['wrong type of interfaces', lab({ a: { interfaces: ['eth0'] } }), 'type'],
  ['out-of-range mtu', lab({ a: { interfaces: { eth0: { mtu: 70000 } } } }), 'maximum'],
  ['empty interface value', lab({ a: { interfaces: { eth0: null } } }), 'type'],
  ['route with a bad key and type', lab({ a: { routes: [{ to: 'default', via: 1, metric: 'x', bogus: true }] } }), 'additionalProperties'],
  ['routes not a list', lab({ a: { routes: { to: 'default' } } }), 'type'],
  ['sysctl value of a wrong type', lab({ a: { sysctls: { 'net.ipv4.ip_forward': [1] } } }), 'type'],
  ['link with one end', lab({ a: {}, b: {} }, { links: [['a:eth0']] }), 'minItems'],
  ['link neither list nor mapping', lab({ a: {}, b: {} }, { links: ['a:eth0 b:eth0'] }), 'type'],
  ['link mapping misspelt', lab({ a: {}, b: {} }, { links: [{ ends: ['a:eth0', 'b:eth0'] }] }), 'required'],
  ['test of a wrong shape', lab({ a: {} }, { tests: [{ from: 'a', ping: 7, extra: 1 }] }), 'additionalProperties'],
  [
    'many errors at once',
    { name: 'X', nodes: { a: { kind: 'x', interfaces: { eth0: { mtu: -1 } }, routes: [{}] } }, links: 3, more: 1 },
    'enum',
  ],
];

describe('the generated schema validator', () => {
  it('is a CommonJS module of the validate function, stamped with the schema it was made from', () => {
    expect(typeof generated).toBe('function');
    expect(generated.schemaHash).toBe(schemaHash(schemaText));
    expect(schemaHash(`${schemaText} `)).not.toBe(generated.schemaHash);
    // Standalone: only ajv's small runtime helpers, never ajv itself.
    const requires = [...source.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(requires.length).toBeGreaterThan(0);
    for (const r of requires) expect(r).toMatch(/^ajv\/dist\/runtime\//);
  });

  it.each(BAD)('gives the same errors as ajv at run time: %s', (_, data, keyword) => {
    const answers = both(data);
    expect(answers.runtime[0]).toBe(false);
    const errors = answers.runtime[1] as Array<{ keyword: string; parentSchema?: unknown; data?: unknown }>;
    expect(errors.map((e) => e.keyword)).toContain(keyword);
    // verbose: what the messages are worded from.
    for (const e of errors) expect(e).toHaveProperty('parentSchema');
    expect(answers.generated).toEqual(answers.runtime);
  });

  it('accepts what ajv at run time accepts: every lab in topologies/ and test/fixtures/valid/', () => {
    const dirs = ['../../topologies/', '../fixtures/valid/'].map((d) => new URL(d, import.meta.url));
    const files = dirs.flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        // docker-container.yaml's pid is ${APP_PID}, a number once substituted.
        .map((f) => [f, parse(readFileSync(new URL(f, dir), 'utf8').replaceAll('${APP_PID}', '4242'), { merge: true }) as unknown] as const),
    );
    expect(files.length).toBeGreaterThan(10);
    for (const [file, data] of files) {
      expect(both(data), file).toEqual({ runtime: [true, null], generated: [true, null] });
    }
  });

  it('answers every parseable case of the corpus of broken inputs as ajv at run time does', () => {
    let compared = 0;
    let invalid = 0;
    for (const c of corpus()) {
      // Above 128 KiB are lists beyond MAX_ITEMS, which the loader refuses before the schema: one
      // of 100,000 bad items takes ajv minutes (it copies its error list once per failing item).
      if (!c.content || c.content.length > 128 * 1024) continue;
      let data: unknown;
      try {
        data = parse(c.content.toString('utf8'), { schema: 'core', resolveKnownTags: false, uniqueKeys: false, logLevel: 'silent' });
      } catch {
        continue; // a YAML error: the schema never sees it
      }
      const answers = both(data);
      // isDeepStrictEqual first: expect().toEqual over 30,000 verbose errors takes seconds.
      if (!isDeepStrictEqual(answers.generated, answers.runtime)) expect(answers.generated, c.name).toEqual(answers.runtime);
      compared += 1;
      if (!answers.runtime[0]) invalid += 1;
    }
    expect(compared).toBeGreaterThan(500);
    expect(invalid).toBeGreaterThan(300);
    // Thousands of documents through two validators: most of a minute on a busy machine.
  }, 300_000);
});

