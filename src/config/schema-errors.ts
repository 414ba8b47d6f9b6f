// The first pass over a lab file: the JSON Schema (shape). ajv's errors are collapsed to one
// per cause and reworded: unknown keys, wrong types, enums, ranges, with did-you-mean hints.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { stringify } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { pathText, toDiagnostic, type Locate, type Path, type Problem } from './problem.js';
import { compileSchema, schemaHash, VALIDATOR_FILE } from './schema-compile.js';
import { didYouMean, distance } from './text.js';

/** The JSON Schema of a lab file, next to the package's compiled code and its sources alike. */
export const SCHEMA_URL = new URL('../../schemas/topology.schema.json', import.meta.url);

/** One YAML line for a value, as a person would write it: [c0:eth0, host:br0]. */
function yamlText(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim();
}

type JsonSchema = Record<string, unknown>;

interface CompiledSchema {
  root: JsonSchema;
  validate: ValidateFunction;
}

/**
 * The validator the build generated from the schema (dist/config/schema-validator.cjs), when it
 * exists and was made from this very schema text; otherwise undefined. Loading it is nearly free,
 * where loading ajv and compiling the schema costs ~300 ms on every run. The hash check keeps a
 * dist/ rebuilt by a bare `tsc` after a schema change from validating against the old schema.
 */
function generatedValidator(schemaText: string): ValidateFunction | undefined {
  const file = new URL(VALIDATOR_FILE, import.meta.url);
  if (!existsSync(file)) return undefined; // the sources (vitest), or a dist/ built by a bare tsc
  const generated = createRequire(import.meta.url)(fileURLToPath(file)) as ValidateFunction & { schemaHash?: string };
  return generated.schemaHash === schemaHash(schemaText) ? generated : undefined;
}

/**
 * The validator is made once, on first use, and kept in this closure: the generated one, or else
 * the schema compiled with ajv (schema-compile.ts has the options both share). The cached
 * validator is never changed after that, so callers cannot observe each other.
 */
const compiledSchema: () => CompiledSchema = (() => {
  let cached: CompiledSchema | undefined;
  return () => {
    if (cached) return cached;
    const text = readFileSync(SCHEMA_URL, 'utf8');
    const root = JSON.parse(text) as JsonSchema;
    cached = { root, validate: generatedValidator(text) ?? compileSchema(root) };
    return cached;
  };
})();

export function schemaDiagnostics(data: unknown, file: string, locate: Locate): Diagnostic[] {
  const { root, validate } = compiledSchema();
  if (validate(data)) return [];
  const errors = collapseErrors(validate.errors ?? []);
  const misspelt = misspeltKeys(errors);
  return errors
    .filter((error) => !(error.keyword === 'required' && misspelt.has(error.instancePath)))
    .map((error) => toDiagnostic(describeSchemaError(error, data, root, misspelt.get(error.instancePath)), file, locate));
}

/**
 * The values the schema rejects, by path: an unknown key's own path, an object missing a required
 * key, or the value of any other error. Empty when the data is valid.
 */
export function rejectedPaths(data: unknown): Path[] {
  const { validate } = compiledSchema();
  if (validate(data)) return [];
  return (validate.errors ?? []).map((error) => {
    const path = pointerToPath(error.instancePath, data);
    if (error.keyword === 'additionalProperties') return [...path, String(error.params.additionalProperty)];
    // A key missing at the top level: the lab's own (name, nodes), which a stand-in may replace.
    if (error.keyword === 'required' && path.length === 0) return [String(error.params.missingProperty)];
    return path;
  });
}

/**
 * An object with exactly one unknown key and one missing required key: the unknown key is that
 * key misspelt ({ends: [...]} for {endpoints: [...]}). One error says so; the missing one goes.
 */
function misspeltKeys(errors: readonly ErrorObject[]): Map<string, string> {
  const missing = new Map<string, string[]>();
  const unknown = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, path: string, key: unknown): void => {
    map.set(path, [...(map.get(path) ?? []), String(key)]);
  };
  for (const error of errors) {
    if (error.keyword === 'required') add(missing, error.instancePath, error.params.missingProperty);
    if (error.keyword === 'additionalProperties') add(unknown, error.instancePath, error.params.additionalProperty);
  }
  const misspelt = new Map<string, string>();
  for (const [path, keys] of missing) {
    const [key, typo] = [keys[0]!, unknown.get(path)?.[0]];
    if (keys.length === 1 && unknown.get(path)?.length === 1 && typo !== undefined && looksLike(typo, key)) misspelt.set(path, key);
  }
  return misspelt;
}

/** Close enough to be the same key mistyped or shortened: "ends" and "endpoints", "too" and "to". */
function looksLike(typo: string, key: string): boolean {
  return distance(typo, key) <= 2 || (typo.length >= 3 && key.slice(0, 3).toLowerCase() === typo.slice(0, 3).toLowerCase());
}

/**
 * ajv reports one cause several times: a link that is neither a list nor a mapping fails the
 * union type, the long form's type and the if/then/else. Keep one error per cause: no `if`
 * errors, and at a path with a type error only its first type error.
 */
function collapseErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const mistyped = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const seen = new Set<string>();
  return errors.filter((error) => {
    if (error.keyword === 'if') return false;
    if (mistyped.has(error.instancePath) && error.keyword !== 'type') return false;
    // ajv lists the outer (most general) type error first: keep that one.
    const key = error.keyword === 'type' ? `${error.instancePath}\0type` : `${error.instancePath}\0${error.keyword}\0${JSON.stringify(error.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** "/links/0/1" → ['links', 0, 1]: numbers where the data is a list, so positions resolve. */
function pointerToPath(pointer: string, data: unknown): Path {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      path.push(Number(seg));
      current = current[Number(seg)];
    } else {
      path.push(seg);
      current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[seg] : undefined;
    }
  }
  return path;
}

/** A schema with its `$ref` (into #/$defs) followed; keywords beside the $ref win. */
function deref(schema: unknown, root: JsonSchema): JsonSchema {
  let current = (schema ?? {}) as JsonSchema;
  const seen = new Set<string>();
  while (typeof current.$ref === 'string' && current.$ref.startsWith('#/$defs/') && !seen.has(current.$ref)) {
    seen.add(current.$ref);
    const { $ref, ...rest } = current;
    const target = (root.$defs as Record<string, JsonSchema>)[($ref as string).slice('#/$defs/'.length)] ?? {};
    current = { ...target, ...rest };
  }
  return current;
}

/** "e.g. mtu: 1500" from the schema's first example, written as it would stand at `path`. */
function exampleHint(path: Path, schema: JsonSchema): string | undefined {
  const examples = schema.examples;
  if (!Array.isArray(examples) || examples.length === 0) return undefined;
  const last = path[path.length - 1];
  const text = yamlText(examples[0]);
  return typeof last === 'string' ? `e.g. ${last}: ${text}` : `e.g. ${text}`;
}

/** `c1:` with nothing after it: say how to write an empty mapping or list. */
function emptyHint(path: Path, data: unknown, type: unknown): string | undefined {
  const last = path[path.length - 1];
  if (data !== null || typeof last !== 'string') return undefined;
  const types = Array.isArray(type) ? type : [type];
  if (types.includes('object')) return `write ${last}: {} for an empty one`;
  if (types.includes('array')) return `write ${last}: [] for an empty list`;
  return undefined;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

function typeWords(type: unknown): string {
  const types = (Array.isArray(type) ? type : [type]).map((t) => TYPE_WORDS[String(t)] ?? String(t));
  return types.length <= 1 ? (types[0] ?? '') : `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}`;
}

function valueWords(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return String(value);
}

function where(path: Path): string {
  return path.length === 0 ? 'at the top level' : `in ${pathText(path)}`;
}

/** ajv's terse message → what is wrong, and what would be right. */
function describeSchemaError(error: ErrorObject, data: unknown, root: JsonSchema, meant?: string): Problem {
  const path = pointerToPath(error.instancePath, data);
  const schema = deref(error.parentSchema, root);
  const what = pathText(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((schema.properties as JsonSchema | undefined) ?? {});
      return {
        path: [...path, key],
        part: 'key',
        message: `unknown key ${JSON.stringify(key)} ${where(path)}`,
        hint: `expected one of: ${allowed.join(', ')}${meant ? ` (did you mean ${JSON.stringify(meant)}?)` : didYouMean(key, allowed, true)}`,
      };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const property = deref((schema.properties as JsonSchema | undefined)?.[key], root);
      const example = exampleHint([key], property);
      return {
        path,
        message: `${path.length === 0 ? 'the lab' : what} has no ${JSON.stringify(key)}`,
        hint: example ? `add it, ${example}` : `add ${key}`,
      };
    }
    case 'type':
      return {
        path,
        message: `${what} must be ${typeWords(params.type)}, got ${valueWords(error.data)}`,
        hint: emptyHint(path, error.data, params.type) ?? exampleHint(path, schema),
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return {
        path,
        message: `${what} cannot be ${valueWords(error.data)}`,
        hint: `use one of: ${allowed.join(', ')}${didYouMean(String(error.data), allowed)}`,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const below = error.keyword.endsWith('inimum');
      const range =
        schema.minimum !== undefined && schema.maximum !== undefined
          ? `use ${schema.minimum}..${schema.maximum}`
          : `use ${below ? 'at least' : 'at most'} ${String(params.limit)}`;
      const side = below ? 'below the minimum' : 'above the maximum';
      return { path, message: `${what} is ${String(error.data)}, ${side} ${String(params.limit)}`, hint: range };
    }
    case 'minItems':
    case 'maxItems': {
      const count = Array.isArray(error.data) ? error.data.length : 0;
      const bound =
        schema.minItems !== undefined && schema.minItems === schema.maxItems
          ? `exactly ${String(schema.minItems)}`
          : `${error.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)}`;
      const items = `item${params.limit === 1 ? '' : 's'}`;
      return { path, message: `${what} must have ${bound} ${items}, got ${count}`, hint: exampleHint(path, schema) };
    }
    case 'minProperties':
      const entries = params.limit === 1 ? 'entry' : 'entries';
      return { path, message: `${what} must have at least ${String(params.limit)} ${entries}`, hint: exampleHint(path, schema) };
    case 'minLength':
      return { path, message: `${what} must not be empty`, hint: exampleHint(path, schema) };
    case 'pattern':
      return {
        path,
        message: `${what} ${valueWords(error.data)} is not allowed`,
        hint: typeof schema.patternErrorMessage === 'string' ? schema.patternErrorMessage : `it must match ${String(params.pattern)}`,
      };
    case 'uniqueItems': {
      const index = Math.max(Number(params.i), Number(params.j));
      const value = Array.isArray(error.data) ? error.data[index] : undefined;
      return { path: [...path, index], message: `${what} lists ${valueWords(value)} twice`, hint: 'remove the repetition' };
    }
    default:
      return { path, message: `${what} ${error.message ?? 'is not valid'}`, hint: exampleHint(path, schema) };
  }
}
