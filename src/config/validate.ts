// Checks a parsed lab file: first the JSON Schema (shape), then the meaning (names, links,
// addresses, routes, ...). Every problem becomes a Diagnostic at the place of the offending
// value; nothing throws and nothing stops at the first error.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ipaddr from 'ipaddr.js';
import { stringify } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import {
  bridgePortName,
  ifnameProblem,
  MAX_IFNAME_BYTES,
  namespaceName,
  NODE_NAME_PATTERN,
  parseEndpoint,
  type Endpoint,
} from '../model/names.js';
import { defaultMetric } from '../model/types.js';
import type { LabSpec, LinkSpec, NodeSpec } from './spec.js';

// ───────────────────────────── API ─────────────────────────────

/** Keys and indexes from the document root to a value: ['nodes', 'c0', 'routes', 1, 'via']. */
export type Path = ReadonlyArray<string | number>;

export interface Position {
  line: number;
  col: number;
}

/** Where a value sits in the file; with part 'key', where its key sits (for unknown keys). */
export type Locate = (path: Path, part?: 'key' | 'value') => Position;

/** The JSON Schema of a lab file, next to the package's compiled code and its sources alike. */
export const SCHEMA_URL = new URL('../../schemas/topology.schema.json', import.meta.url);

/**
 * All diagnostics for `data` (the document converted to plain JS): schema errors, or, when the
 * shape is right, every semantic error. Unsorted; the caller sorts.
 */
export function validateLab(data: unknown, file: string, locate: Locate): Diagnostic[] {
  const schemaErrors = schemaDiagnostics(data, file, locate);
  if (schemaErrors.length > 0) return schemaErrors;
  return semanticDiagnostics(data as LabSpec, file, locate);
}

// ───────────────────────────── shared helpers ─────────────────────────────

interface Problem {
  path: Path;
  part?: 'key' | 'value';
  message: string;
  hint?: string;
}

function toDiagnostic(problem: Problem, file: string, locate: Locate): Diagnostic {
  const { line, col } = locate(problem.path, problem.part);
  return { file, line, col, severity: 'error', message: problem.message, hint: problem.hint };
}

/** nodes.c0.interfaces.eth0.mtu, links[2][0], nodes.host.sysctls["net.ipv4.ip_forward"]. */
export function pathText(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || 'the lab';
}

/** One YAML line for a value, as a person would write it: [c0:eth0, host:br0]. */
function yamlText(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim();
}

/**
 * Edit distance where swapping two neighbours ("mut" → "mtu") is one typo, not two. Above `max`
 * it only says so (max + 1), and stops early: a lab of a thousand nodes with a typo in every
 * link compares every typo with every node.
 */
function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  // Three rows of the table: two back (for swaps), one back, this one.
  let older = new Int32Array(b.length + 1);
  let prev = new Int32Array(b.length + 1).map((_, j) => j);
  let row = new Int32Array(b.length + 1);
  let prevMin = 0;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, older[j - 2]! + 1);
      row[j] = best;
      rowMin = Math.min(rowMin, best);
    }
    // Every later cell builds on this row or the one before: neither can get below its minimum.
    if (rowMin > max && prevMin > max) return max + 1;
    prevMin = rowMin;
    [older, prev, row] = [prev, row, older];
  }
  return prev[b.length]!;
}

function distance(word: string, candidate: string, max = Infinity): number {
  const [w, c] = [word.toLowerCase(), candidate.toLowerCase()];
  if (w === c) return 0;
  // "failure" for "fail", "int" for "interfaces": a prefix is as good as one typo.
  if (w.length >= 3 && c.length >= 3 && (w.startsWith(c) || c.startsWith(w))) return 1;
  return editDistance(w, c, max);
}

/** No name, key or value that a suggestion could fix is longer; a longer word gets none. */
const MAX_SUGGESTED_LENGTH = 64;

/** Above this many candidates (nodes of a big lab), no suggestion: each typo would cost them all. */
const MAX_SUGGESTION_CANDIDATES = 1000;

/** The closest candidate when it is close enough to be a typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > MAX_SUGGESTED_LENGTH || candidates.length > MAX_SUGGESTION_CANDIDATES) return undefined;
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word, candidate, limit);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** How many names a message lists: one line even in a lab of a thousand nodes. */
const MAX_LISTED_NAMES = 10;

/** Sorted names, the first MAX_LISTED_NAMES of them and how many more. */
function nameList(names: Iterable<string>): string {
  const sorted = [...names].sort();
  if (sorted.length <= MAX_LISTED_NAMES) return sorted.join(', ');
  return `${sorted.slice(0, MAX_LISTED_NAMES).join(', ')} and ${sorted.length - MAX_LISTED_NAMES} more`;
}

function didYouMean(word: string, candidates: readonly string[], quote = false): string {
  const guess = closest(word, candidates);
  if (guess === undefined) return '';
  return ` (did you mean ${quote ? JSON.stringify(guess) : guess}?)`;
}

/** Own keys only: a node named "constructor" must not find Object.prototype. */
function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

// ───────────────────────────── schema ─────────────────────────────

type JsonSchema = Record<string, unknown>;

interface CompiledSchema {
  root: JsonSchema;
  validate: ValidateFunction;
}

/**
 * Compiling the schema takes far longer than validating a lab, so it is compiled once, on first
 * use, and kept in this closure. The cached validator is never changed after that, so callers
 * cannot observe each other.
 */
const compiledSchema: () => CompiledSchema = (() => {
  let cached: CompiledSchema | undefined;
  return () => {
    if (cached) return cached;
    const root = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as JsonSchema;
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    // An annotation that VS Code and yaml-language-server show; here it words pattern errors.
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    cached = { root, validate: ajv.compile(root) };
    return cached;
  };
})();

function schemaDiagnostics(data: unknown, file: string, locate: Locate): Diagnostic[] {
  const { root, validate } = compiledSchema();
  if (validate(data)) return [];
  const errors = collapseErrors(validate.errors ?? []);
  const misspelt = misspeltKeys(errors);
  return errors
    .filter((error) => !(error.keyword === 'required' && misspelt.has(error.instancePath)))
    .map((error) => toDiagnostic(describeSchemaError(error, data, root, misspelt.get(error.instancePath)), file, locate));
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

// ───────────────────────────── IP addresses ─────────────────────────────

type Family = 4 | 6;

interface Ip {
  family: Family;
  bytes: number[];
  /** Canonical text: 172.18.0.1, 2001:db8::1. */
  text: string;
}

interface Cidr {
  ip: Ip;
  length: number;
}

/** Strict: dotted quad for IPv4 (no "10.1" or octal), no zone id for IPv6. */
function parseIp(text: string): Ip | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const ip = ipaddr.IPv4.parse(text);
    return { family: 4, bytes: ip.toByteArray(), text: ip.toString() };
  }
  if (!text.includes('%') && !text.includes('/') && ipaddr.IPv6.isValid(text)) {
    const ip = ipaddr.IPv6.parse(text);
    return { family: 6, bytes: ip.toByteArray(), text: ip.toRFC5952String() };
  }
  return undefined;
}

type CidrResult = { cidr: Cidr } | { problem: 'no-length'; ip?: Ip } | { problem: 'bad-ip' } | { problem: 'bad-length'; ip: Ip };

function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = parseIp(text);
    return ip ? { problem: 'no-length', ip } : { problem: 'bad-ip' };
  }
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return { problem: 'bad-ip' };
  const lengthText = text.slice(slash + 1);
  const length = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || length > maxLength(ip.family)) return { problem: 'bad-length', ip };
  return { cidr: { ip, length } };
}

function maxLength(family: Family): number {
  return family === 4 ? 32 : 128;
}

function familyName(family: Family): string {
  return family === 4 ? 'IPv4' : 'IPv6';
}

function exampleCidr(family: Family | undefined): string {
  return family === 6 ? '2001:db8::10/64' : '172.18.0.10/24';
}

/** The network part of an address: host bits cleared. */
function networkOf(cidr: Cidr): Ip {
  const bytes = cidr.ip.bytes.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, cidr.length - i * 8));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
  return ipFromBytes(cidr.ip.family, bytes);
}

function ipFromBytes(family: Family, bytes: number[]): Ip {
  const ip = ipaddr.fromByteArray(bytes);
  return { family, bytes, text: family === 4 ? ip.toString() : (ip as ipaddr.IPv6).toRFC5952String() };
}

function hasHostBits(cidr: Cidr): boolean {
  return networkOf(cidr).text !== cidr.ip.text;
}

function contains(net: Cidr, ip: Ip): boolean {
  return net.ip.family === ip.family && networkOf(net).text === networkOf({ ip, length: net.length }).text;
}

function subnetText(cidr: Cidr): string {
  return `${networkOf(cidr).text}/${cidr.length}`;
}

function isLinkLocal6(ip: Ip): boolean {
  return ip.family === 6 && ip.bytes[0] === 0xfe && (ip.bytes[1]! & 0xc0) === 0x80;
}

/** ADDR, ADDR:PORT, or [V6ADDR]:PORT. */
function parseHostPort(text: string): { ip: Ip; port?: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    const ip = parseIp(bracketed[1]!);
    if (ip?.family !== 6) return undefined;
    return withPort(ip, bracketed[2]);
  }
  const plain = parseIp(text);
  if (plain) return { ip: plain };
  const v4 = /^([0-9.]+):(\d+)$/.exec(text);
  const ip = v4 ? parseIp(v4[1]!) : undefined;
  return ip ? withPort(ip, v4![2]) : undefined;
}

function withPort(ip: Ip, portText: string | undefined): { ip: Ip; port?: number } | undefined {
  if (portText === undefined) return { ip };
  const port = Number(portText);
  return isPort(port) ? { ip, port } : undefined;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

// ───────────────────────────── semantic checks ─────────────────────────────

/** What a link makes of one of its ends. */
interface LinkEnd {
  text: string;
  path: Path;
  node: string;
  ifname: string;
  /** Set when ifname names a bridge of the node: the end is a new port of that bridge. */
  bridge?: string;
}

interface Link {
  ends: [LinkEnd, LinkEnd];
}

/** Who made an interface name in a node, to report collisions. */
interface Claim {
  kind: 'bridge' | 'end' | 'port';
  label: string;
  path: Path;
  /** kind 'port': the bridge the port belongs to. */
  bridge?: string;
}

/** Everything the links make, derived once and shared by the checks. */
interface Topology {
  links: Link[];
  /** node → interface name → who made it. */
  claims: Map<string, Map<string, Claim>>;
  /** "node\0ifname" of link ends rejected for their name: already reported, not reported again. */
  rejected: Set<string>;
}

interface Ctx {
  spec: LabSpec;
  locate: Locate;
  problems: Problem[];
  topology: Topology;
  /** The node names as messages list them, once made. */
  nodeList?: string;
}

function semanticDiagnostics(spec: LabSpec, file: string, locate: Locate): Diagnostic[] {
  const problems: Problem[] = [];
  const ctx: Ctx = { spec, locate, problems, topology: { links: [], claims: new Map(), rejected: new Set() } };
  checkNames(ctx);
  checkKinds(ctx);
  buildTopology(ctx);
  checkInterfaces(ctx);
  checkAddresses(ctx);
  checkRoutes(ctx);
  checkSysctls(ctx);
  checkDns(ctx);
  checkNat(ctx);
  checkFirewall(ctx);
  checkTests(ctx);
  return problems.map((problem) => toDiagnostic(problem, file, locate));
}

function report(ctx: Ctx, path: Path, message: string, hint?: string, part?: 'key' | 'value'): void {
  ctx.problems.push({ path, message, hint, part });
}

function lineOf(ctx: Ctx, path: Path, part?: 'key' | 'value'): number {
  return ctx.locate(path, part).line;
}

function nodeEntries(spec: LabSpec): Array<[string, NodeSpec]> {
  return Object.entries(spec.nodes);
}

/** Made once per check: a lab of many nodes with a typo in every link asks for it every time. */
function nodeList(ctx: Ctx): string {
  return (ctx.nodeList ??= nameList(Object.keys(ctx.spec.nodes)));
}

function kindOf(node: NodeSpec): NonNullable<NodeSpec['kind']> {
  return node.kind ?? 'netns';
}

// ── names of nodes and namespaces

function checkNames(ctx: Ctx): void {
  const prefix = ctx.spec.prefix ?? '';
  const prefixOk = prefix === '' || /^[A-Za-z0-9]/.test(prefix);
  if (!prefixOk) {
    report(
      ctx,
      ['prefix'],
      `prefix ${JSON.stringify(prefix)} would start every namespace name with ${JSON.stringify(prefix[0])}`,
      'a namespace name must start with a letter or digit; start the prefix with one',
    );
  }
  for (const [name, node] of nodeEntries(ctx.spec)) {
    if (!NODE_NAME_PATTERN.test(name)) {
      report(
        ctx,
        ['nodes', name],
        `node name ${JSON.stringify(name)} is not allowed`,
        'a node name becomes a namespace and file name: use 1-63 letters, digits, "_", "." or "-", starting with a letter or digit',
        'key',
      );
      continue;
    }
    const netns = namespaceName(prefix, name);
    if (prefixOk && kindOf(node) !== 'host' && !NODE_NAME_PATTERN.test(netns)) {
      report(
        ctx,
        ['nodes', name],
        `namespace name ${JSON.stringify(netns)} (prefix + node name) is ${netns.length} characters long`,
        'the limit is 63; shorten the prefix or the node name',
        'key',
      );
    }
  }
}

// ── kind, pid, path

function checkKinds(ctx: Ctx): void {
  let firstHost: string | undefined;
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const kind = kindOf(node);
    if (kind === 'host') {
      if (firstHost === undefined) firstHost = name;
      else {
        report(
          ctx,
          ['nodes', name, 'kind'],
          `node ${name} is a second kind: host node (the first is ${firstHost}, line ${lineOf(ctx, ['nodes', firstHost], 'key')})`,
          'this machine has one root namespace: keep one host node',
        );
      }
    }
    for (const key of ['pid', 'path'] as const) {
      if (node[key] !== undefined && kind !== 'attach') {
        report(
          ctx,
          ['nodes', name, key],
          `${key} is only for kind: attach (node ${name} is kind ${kind})`,
          `remove ${key}, or set kind: attach`,
          'key',
        );
      }
    }
    if (kind === 'host' && node.dns !== undefined) {
      report(
        ctx,
        ['nodes', name, 'dns'],
        `dns on node ${name}: a kind: host node is the machine itself, and its resolv.conf is the machine's`,
        'remove dns here; it is for the lab\'s own and attached namespaces',
        'key',
      );
    }
    if (kind === 'attach' && node.pid === undefined && node.path === undefined) {
      report(ctx, ['nodes', name, 'kind'], `node ${name} is kind: attach but names no namespace`, 'add pid: PID or path: /run/netns/NAME');
    }
    if (kind === 'attach' && node.pid !== undefined && node.path !== undefined) {
      report(ctx, ['nodes', name, 'path'], `node ${name} has both pid and path`, 'give one of them', 'key');
    }
  }
}

// ── links, and the interface names they make

function linkEndpoints(link: LinkSpec, index: number): Array<{ text: string; path: Path }> {
  if (Array.isArray(link)) return link.map((text, j) => ({ text, path: ['links', index, j] }));
  return link.endpoints.map((text, j) => ({ text, path: ['links', index, 'endpoints', j] }));
}

function ifnameMessage(name: string, context: string): { message: string; hint: string } | undefined {
  const problem = ifnameProblem(name);
  if (problem === undefined) return undefined;
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_IFNAME_BYTES) {
    return {
      message: `interface name ${JSON.stringify(name)}${context} is ${bytes} bytes long`,
      hint: `the kernel allows at most ${MAX_IFNAME_BYTES}; use a shorter name`,
    };
  }
  return { message: `interface name ${JSON.stringify(name)}${context} is not allowed`, hint: `an interface name ${problem}` };
}

/** Checks an interface name the lab creates; true when it is fine. */
function checkIfname(ctx: Ctx, name: string, path: Path, context = '', part?: 'key' | 'value'): boolean {
  if (name === 'lo') {
    report(ctx, path, `interface name "lo"${context} is the loopback device that every namespace already has`, 'use another name', part);
    return false;
  }
  const problem = ifnameMessage(name, context);
  if (problem) report(ctx, path, problem.message, problem.hint, part);
  return problem === undefined;
}

/** A link end as written, or undefined after reporting why it is unusable. */
function parseLinkEnd(ctx: Ctx, text: string, path: Path): LinkEnd | undefined {
  const endpoint: Endpoint | undefined = parseEndpoint(text);
  if (!endpoint) {
    report(
      ctx,
      path,
      `link end ${JSON.stringify(text)} is not NODE:IFNAME`,
      'e.g. c0:eth0, or host:br0 for a port of bridge br0 of node host',
    );
    return undefined;
  }
  const node = own(ctx.spec.nodes, endpoint.node);
  if (!node) {
    const names = Object.keys(ctx.spec.nodes);
    report(
      ctx,
      path,
      `link end ${JSON.stringify(text)}: no node ${endpoint.node} (nodes: ${nodeList(ctx)})`,
      `declare ${endpoint.node} under nodes, or correct the name${didYouMean(endpoint.node, names)}`,
    );
    return undefined;
  }
  if (own(node.bridges, endpoint.ifname)) return { text, path, ...endpoint, bridge: endpoint.ifname };
  if (!checkIfname(ctx, endpoint.ifname, path, ` in link end ${JSON.stringify(text)}`)) {
    ctx.topology.rejected.add(deviceKey(endpoint.node, endpoint.ifname));
    return undefined;
  }
  return { text, path, ...endpoint };
}

function claim(ctx: Ctx, claims: Map<string, Map<string, Claim>>, node: string, name: string, made: Claim): void {
  let names = claims.get(node);
  if (!names) claims.set(node, (names = new Map()));
  const before = names.get(name);
  if (!before) {
    names.set(name, made);
    return;
  }
  const line = lineOf(ctx, before.path, before.kind === 'bridge' ? 'key' : 'value');
  if (before.kind === 'end' && made.kind === 'end') {
    report(
      ctx,
      made.path,
      `${node}:${name} is already the end of the link at line ${line}`,
      'a veth end belongs to one link: use another interface name, or a bridge to join more than two ends',
    );
    return;
  }
  const hint =
    before.kind === 'port' || made.kind === 'port'
      ? 'a bridge port is named NODE-IFNAME after the far end of its link: rename an interface or node so that the names differ'
      : 'rename one of them';
  report(
    ctx,
    made.path,
    `interface name ${JSON.stringify(name)} on node ${node} is made twice: by ${before.label} (line ${line}) and by ${made.label}`,
    hint,
  );
}

/** Fills ctx.topology from the bridges and links, reporting bad link ends and name clashes. */
function buildTopology(ctx: Ctx): void {
  const topology: Topology = ctx.topology;
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const bridge of Object.keys(node.bridges ?? {})) {
      const path = ['nodes', name, 'bridges', bridge];
      if (checkIfname(ctx, bridge, path, ` (bridge of node ${name})`, 'key')) {
        claim(ctx, topology.claims, name, bridge, { kind: 'bridge', label: `bridge ${bridge}`, path });
      }
    }
  }
  (ctx.spec.links ?? []).forEach((spec, index) => {
    const [a, b] = linkEndpoints(spec, index).map(({ text, path }) => parseLinkEnd(ctx, text, path));
    if (a && b && a.node === b.node && a.ifname === b.ifname) {
      report(ctx, b.path, `link connects ${a.text} to itself`, 'the two ends of a link must differ');
      return;
    }
    // A good end still claims its name when the other end is bad: more errors in one run.
    if (a) claimLinkEnd(ctx, topology, a, b);
    if (b) claimLinkEnd(ctx, topology, b, a);
    if (a && b) topology.links.push({ ends: [a, b] });
  });
}

/** An interface end keeps its name; a bridge end becomes a port named after the far end. */
function claimLinkEnd(ctx: Ctx, topology: Topology, near: LinkEnd, far: LinkEnd | undefined): void {
  if (!near.bridge) {
    claim(ctx, topology.claims, near.node, near.ifname, { kind: 'end', label: `link end ${near.text}`, path: near.path });
    return;
  }
  if (!far) return;
  const port = bridgePortName(far);
  const label = `the port that link [${far.text}, ${near.text}] makes for bridge ${near.bridge}`;
  if (!checkIfname(ctx, port, near.path, ` (${label})`)) return;
  claim(ctx, topology.claims, near.node, port, { kind: 'port', label, path: near.path, bridge: near.bridge });
}

/** Names of the interfaces and bridges a node will have, as `dev`, `in` and `out` may name them. */
function devicesOf(ctx: Ctx, name: string, node: NodeSpec): Set<string> {
  return new Set(['lo', ...(ctx.topology.claims.get(name)?.keys() ?? []), ...Object.keys(node.interfaces ?? {})]);
}

function deviceList(devices: Set<string>): string {
  return nameList(devices);
}

// ── interfaces: created by a link, master, mac

function checkInterfaces(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) {
      const path = ['nodes', name, 'interfaces', ifname];
      const made = ctx.topology.claims.get(name)?.get(ifname);
      checkInterfaceName(ctx, name, node, ifname, made, path);
      if (iface.master !== undefined) checkMaster(ctx, name, node, ifname, iface.master, made, [...path, 'master']);
      if (iface.mac !== undefined) checkMac(ctx, iface.mac, [...path, 'mac']);
    }
  }
}

/** The key of `interfaces` names something this node will have. */
function checkInterfaceName(ctx: Ctx, name: string, node: NodeSpec, ifname: string, made: Claim | undefined, path: Path): void {
  if (own(node.bridges, ifname)) {
    report(
      ctx,
      path,
      `${ifname} is both a bridge and an interface of node ${name}`,
      `put the bridge's settings under nodes.${name}.bridges.${ifname}`,
      'key',
    );
    return;
  }
  if (ctx.topology.rejected.has(deviceKey(name, ifname))) return;
  if (kindOf(node) !== 'netns' || ifnameProblem(ifname) !== undefined || ifname === 'lo') {
    checkIfname(ctx, ifname, path, ` (node ${name})`, 'key');
    if (kindOf(node) !== 'netns' && !made) checkExistingInterface(ctx, name, node, ifname, path);
    return;
  }
  if (made) return;
  report(
    ctx,
    path,
    `interface ${ifname} on node ${name} is created by no link`,
    `add a link such as [${name}:${ifname}, OTHER:IFNAME] or remove it`,
    'key',
  );
}

/** In a host or attach node an interface no link creates is the machine's: the lab may add addresses to it, nothing more. */
function checkExistingInterface(ctx: Ctx, name: string, node: NodeSpec, ifname: string, path: Path): void {
  const spec = node.interfaces?.[ifname] ?? {};
  for (const key of ['mtu', 'mac', 'master', 'up'] as const) {
    if (spec[key] === undefined) continue;
    report(
      ctx,
      [...path, key],
      `${key} of ${ifname}: node ${name} is kind ${kindOf(node)} and no link creates ${ifname}, so it is not the lab's to change`,
      `keep only addresses for an existing interface, or create it with a link`,
      'key',
    );
  }
}

function checkMaster(ctx: Ctx, name: string, node: NodeSpec, ifname: string, master: string, made: Claim | undefined, path: Path): void {
  if (!own(node.bridges, master)) {
    const owners = nodeEntries(ctx.spec)
      .filter(([, other]) => own(other.bridges, master))
      .map(([other]) => other);
    if (owners.length > 0) {
      report(
        ctx,
        path,
        `master ${master} is not a bridge of node ${name} (${master} is a bridge of node ${owners.join(', ')})`,
        `an interface can only join a bridge of its own node; to connect it, write the link as [${name}:${ifname}, ${owners[0]}:${master}]`,
      );
    } else {
      const bridges = Object.keys(node.bridges ?? {});
      const has = bridges.length > 0 ? `its bridges: ${bridges.join(', ')}` : `node ${name} has no bridges`;
      report(
        ctx,
        path,
        `master ${master} is not a bridge of node ${name} (${has})`,
        `name one of its bridges, or declare ${master} under nodes.${name}.bridges${didYouMean(master, bridges)}`,
      );
    }
    return;
  }
  if (made?.kind === 'port' && made.bridge !== master) {
    report(ctx, path, `${ifname} is ${made.label}, so its master is ${made.bridge}, not ${master}`, 'remove master');
  }
}

function checkMac(ctx: Ctx, mac: string, path: Path): void {
  if (!/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(mac)) {
    report(
      ctx,
      path,
      `mac ${JSON.stringify(mac)} is not a MAC address`,
      'write 6 hex octets separated by ":", e.g. mac: "02:42:ac:12:00:0a"',
    );
    return;
  }
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 1) {
    const fixed = ((first & 0xfe) | 0x02).toString(16).padStart(2, '0') + mac.slice(2);
    report(
      ctx,
      path,
      `mac ${mac} is a multicast address (the lowest bit of its first octet is set)`,
      `an interface needs a unicast address, e.g. ${fixed.toLowerCase()}`,
    );
  } else if (/^0{2}(:0{2}){5}$/.test(mac)) {
    report(ctx, path, `mac ${mac} is all zeros, which the kernel refuses`, 'use a locally administered address, e.g. 02:00:00:00:00:01');
  }
}

// ── addresses, and L2 segments

interface PlacedAddress {
  node: string;
  device: string;
  cidr: Cidr;
  path: Path;
}

/** Every address of every bridge and interface, valid ones parsed; invalid ones reported. */
function collectAddresses(ctx: Ctx): PlacedAddress[] {
  const placed: PlacedAddress[] = [];
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const section of ['bridges', 'interfaces'] as const) {
      const devices: Record<string, { addresses?: string[] }> = node[section] ?? {};
      for (const [device, settings] of Object.entries(devices)) {
        (settings.addresses ?? []).forEach((text: string, i: number) => {
          const path = ['nodes', name, section, device, 'addresses', i];
          const cidr = checkAddress(ctx, text, path);
          if (cidr) placed.push({ node: name, device, cidr, path });
        });
      }
    }
  }
  return placed;
}

function checkAddress(ctx: Ctx, text: string, path: Path): Cidr | undefined {
  const parsed = parseCidr(text);
  if ('cidr' in parsed) return parsed.cidr;
  if (parsed.problem === 'no-length' && parsed.ip) {
    report(ctx, path, `address ${text} has no prefix length`, `e.g. ${text}/${parsed.ip.family === 4 ? 24 : 64}`);
  } else if (parsed.problem === 'bad-length') {
    report(
      ctx,
      path,
      `address ${text} has a prefix length out of range for ${familyName(parsed.ip.family)}`,
      `use /0 to /${maxLength(parsed.ip.family)}, e.g. ${parsed.ip.text}/${parsed.ip.family === 4 ? 24 : 64}`,
    );
  } else {
    report(
      ctx,
      path,
      `address ${JSON.stringify(text)} is not an IPv4 or IPv6 address with a prefix length`,
      `e.g. ${exampleCidr(4)} or "${exampleCidr(6)}"`,
    );
  }
  return undefined;
}

/** Union-find over "node\0device": one set per L2 segment. */
function segmentFinder(): { union: (a: string, b: string) => void; find: (a: string) => string } {
  const parent = new Map<string, string>();
  const find = (a: string): string => {
    let root = a;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    for (let x = a; x !== root; ) {
      const next = parent.get(x)!;
      parent.set(x, root);
      x = next;
    }
    return root;
  };
  const union = (a: string, b: string): void => {
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra, rb);
  };
  return { union, find };
}

function deviceKey(node: string, device: string): string {
  return `${node}\0${device}`;
}

/**
 * The two ends of a veth are one segment; a bridge joins its ports (the ends of links on it and
 * interfaces with master: it) and, through them, their peers.
 */
function segments(ctx: Ctx): (node: string, device: string) => string {
  const { union, find } = segmentFinder();
  for (const link of ctx.topology.links) {
    const [a, b] = link.ends.map((end) => deviceKey(end.node, end.bridge ?? end.ifname));
    union(a!, b!);
    for (const [near, far] of [link.ends, [link.ends[1], link.ends[0]]] as const) {
      if (near.bridge) union(deviceKey(near.node, bridgePortName(far)), deviceKey(near.node, near.bridge));
    }
  }
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [ifname, iface] of Object.entries(node.interfaces ?? {})) {
      if (iface.master !== undefined && own(node.bridges, iface.master)) union(deviceKey(name, ifname), deviceKey(name, iface.master));
    }
  }
  return (node, device) => find(deviceKey(node, device));
}

function checkAddresses(ctx: Ctx): void {
  const segmentOf = segments(ctx);
  const seen = new Map<string, PlacedAddress>();
  for (const placed of collectAddresses(ctx)) {
    const key = `${segmentOf(placed.node, placed.device)}\0${placed.cidr.ip.text}`;
    const before = seen.get(key);
    if (!before) {
      seen.set(key, placed);
      continue;
    }
    const there = before.node === placed.node && before.device === placed.device ? 'this interface' : `${before.node}:${before.device}`;
    report(
      ctx,
      placed.path,
      `address ${placed.cidr.ip.text} is used twice on one L2 segment: here and on ${there} (line ${lineOf(ctx, before.path)})`,
      'addresses on one segment must differ (isolated segments may reuse them)',
    );
  }
}

// ── routes

interface NodeAddresses {
  cidrs: Cidr[];
  own: Set<string>;
}

function addressesOf(node: NodeSpec): NodeAddresses {
  const cidrs: Cidr[] = [];
  for (const section of [node.interfaces, node.bridges]) {
    for (const settings of Object.values(section ?? {})) {
      for (const text of settings.addresses ?? []) {
        const parsed = parseCidr(text);
        if ('cidr' in parsed) cidrs.push(parsed.cidr);
      }
    }
  }
  return { cidrs, own: new Set(cidrs.map((c) => c.ip.text)) };
}

function checkRoutes(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const addresses = addressesOf(node);
    const devices = devicesOf(ctx, name, node);
    const declared = new Map<string, Path>();
    (node.routes ?? []).forEach((route, i) => {
      const path = ['nodes', name, 'routes', i];
      const to = checkRouteDestination(ctx, route.to, [...path, 'to']);
      const via = route.via === undefined ? undefined : checkGatewayText(ctx, route.via, [...path, 'via']);
      if (route.via === undefined && route.dev === undefined) {
        report(ctx, path, `route to ${route.to} has neither via nor dev`, 'add via: GATEWAY or dev: IFNAME');
      }
      if (route.dev !== undefined && kindOf(node) === 'netns' && !devices.has(route.dev)) {
        report(
          ctx,
          [...path, 'dev'],
          `dev ${route.dev} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`,
          `name one of them, or add a link that creates ${name}:${route.dev}${didYouMean(route.dev, [...devices])}`,
        );
      }
      if (to === null || via === null) return;
      const family = to?.ip.family ?? via?.family ?? 4;
      if (via && to && via.family !== to.ip.family) {
        report(
          ctx,
          [...path, 'via'],
          `route to ${route.to} is ${familyName(to.ip.family)} but its gateway ${route.via} is ${familyName(via.family)}`,
          'use a gateway of the same family',
        );
        return;
      }
      if (via && kindOf(node) === 'netns') checkGatewayReach(ctx, name, addresses, via, route.dev !== undefined, [...path, 'via']);
      // 0.0.0.0/0 and ::/0 are the default route to the kernel.
      const key = `${family} ${to && to.length > 0 ? subnetText(to) : 'default'} ${route.metric ?? defaultMetric(family)}`;
      const first = declared.get(key);
      if (first) {
        report(
          ctx,
          [...path, 'to'],
          `route to ${route.to} (${familyName(family)}, metric ${route.metric ?? defaultMetric(family)}) is declared twice in node ${name} (first at line ${lineOf(ctx, first)})`,
          'remove one, or give them different metrics',
        );
      } else declared.set(key, [...path, 'to']);
    });
  }
}

/** undefined for default, the destination when valid, null after reporting a problem. */
function checkRouteDestination(ctx: Ctx, to: string, path: Path): Cidr | undefined | null {
  if (to === 'default') return undefined;
  const parsed = parseCidr(to);
  if ('cidr' in parsed) {
    if (!hasHostBits(parsed.cidr)) return parsed.cidr;
    report(ctx, path, `${to} has host bits set`, `did you mean ${subnetText(parsed.cidr)}?`);
    return null;
  }
  if (parsed.problem === 'no-length' && parsed.ip) {
    report(
      ctx,
      path,
      `route destination ${to} has no prefix length`,
      `e.g. ${to}/${maxLength(parsed.ip.family)} for one host, or a network such as ${parsed.ip.family === 4 ? '10.9.0.0/16' : '2001:db8:9::/48'}`,
    );
  } else if (parsed.problem === 'bad-length') {
    report(
      ctx,
      path,
      `route destination ${to} has a prefix length out of range for ${familyName(parsed.ip.family)}`,
      `use /0 to /${maxLength(parsed.ip.family)}`,
    );
  } else {
    report(ctx, path, `route destination ${JSON.stringify(to)} is neither default nor a CIDR`, 'e.g. to: default or to: 10.9.0.0/16');
  }
  return null;
}

function checkGatewayText(ctx: Ctx, via: string, path: Path): Ip | null {
  const ip = parseIp(via);
  if (ip) return ip;
  const slash = via.indexOf('/');
  if (slash >= 0 && parseIp(via.slice(0, slash))) {
    report(ctx, path, `gateway ${via} has a prefix length`, `a gateway is one address: via: ${via.slice(0, slash)}`);
  } else {
    report(ctx, path, `gateway ${JSON.stringify(via)} is not an IP address`, 'e.g. via: 172.18.0.1');
  }
  return null;
}

/** The kernel only accepts a gateway it can reach directly: on a subnet of the node, not itself. */
function checkGatewayReach(ctx: Ctx, name: string, addresses: NodeAddresses, via: Ip, hasDev: boolean, path: Path): void {
  if (isLinkLocal6(via)) {
    if (!hasDev) report(ctx, path, `gateway ${via.text} is link-local, so the route needs an interface`, 'add dev: IFNAME');
    return;
  }
  if (addresses.own.has(via.text)) {
    report(ctx, path, `gateway ${via.text} is an address of node ${name} itself`, 'via must be another host on a connected subnet');
    return;
  }
  const sameFamily = addresses.cidrs.filter((c) => c.ip.family === via.family);
  if (sameFamily.some((c) => contains(c, via))) return;
  const subnets = [...new Set(sameFamily.map(subnetText))];
  const has = subnets.length > 0 ? `its subnets: ${subnets.join(', ')}` : `it has no ${familyName(via.family)} address`;
  report(
    ctx,
    path,
    `gateway ${via.text} is on no connected subnet of node ${name} (${has})`,
    'add an address in that subnet or correct via',
  );
}

// ── sysctls

const SYSCTL_NAME = /^net(\.[A-Za-z0-9_/-]+)+$/;

function checkSysctls(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [key, value] of Object.entries(node.sysctls ?? {})) {
      const path = ['nodes', name, 'sysctls', key];
      if (!key.startsWith('net.')) {
        report(
          ctx,
          path,
          `sysctl ${key} is not per network namespace`,
          "only net.* sysctls are: netlab sets them inside the node's namespace, and any other would change the whole machine",
          'key',
        );
      } else if (!SYSCTL_NAME.test(key)) {
        report(
          ctx,
          path,
          `sysctl name ${JSON.stringify(key)} is not valid`,
          "write a dotted name such as net.ipv4.ip_forward; write a '.' inside an interface name as '/' (net.ipv4.conf.eth0/1.forwarding)",
          'key',
        );
      }
      checkSysctlValue(ctx, key, value, path);
    }
  }
}

function checkSysctlValue(ctx: Ctx, key: string, value: string | number | boolean, path: Path): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    report(ctx, path, `sysctl ${key} has value ${value}`, 'use a finite number, e.g. 1');
  } else if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    // 1.5 or 1e308 would be written as "1.5" or "1e+308", which no sysctl takes.
    report(ctx, path, `sysctl ${key} has value ${value}, not a whole number`, 'use a whole number, e.g. 1, or quote a value the kernel reads as text');
  } else if (typeof value === 'string' && /[\u0000-\u001f\u007f]/.test(value)) {
    report(ctx, path, `the value of sysctl ${key} contains a control character`, 'write it on one line, numbers separated by spaces');
  } else if (typeof value === 'string' && value.trim() === '') {
    report(ctx, path, `the value of sysctl ${key} is empty`, 'give a value, e.g. 1');
  }
}

// ── dns

const HOSTNAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function checkDns(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const base = ['nodes', name, 'dns'];
    (node.dns?.nameservers ?? []).forEach((text, i) => {
      if (!parseIp(text)) {
        report(
          ctx,
          [...base, 'nameservers', i],
          `nameserver ${JSON.stringify(text)} is not an IP address`,
          'e.g. 198.51.100.1',
        );
      }
    });
    (node.dns?.search ?? []).forEach((text, i) => {
      if (!HOSTNAME.test(text)) {
        report(
          ctx,
          [...base, 'search', i],
          `search domain ${JSON.stringify(text)} is not a domain name`,
          "use dot-separated labels of letters, digits and '-', e.g. lab.test",
        );
      }
    });
    (node.dns?.options ?? []).forEach((text, i) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(text)) {
        report(
          ctx,
          [...base, 'options', i],
          `resolver option ${JSON.stringify(text)} is not one word`,
          'write one option per item, e.g. ndots:2 or edns0',
        );
      }
    });
  }
}

// ── nat and firewall

/** An IP or CIDR to match; its family, or null after reporting a problem. */
function checkAddressMatch(ctx: Ctx, text: string, path: Path, key: string): Family | null {
  const ip = parseIp(text);
  if (ip) return ip.family;
  const parsed = parseCidr(text);
  if ('cidr' in parsed) {
    if (!hasHostBits(parsed.cidr)) return parsed.cidr.ip.family;
    report(
      ctx,
      path,
      `${key} ${text} has host bits set`,
      `did you mean ${subnetText(parsed.cidr)}? (or ${parsed.cidr.ip.text} for one address)`,
    );
    return null;
  }
  report(ctx, path, `${key} ${JSON.stringify(text)} is neither an IP address nor a CIDR`, 'e.g. 172.18.0.0/16 or 172.18.0.10');
  return null;
}

/** `in`/`out`: an interface or bridge of the node, after an optional '!'. */
function checkIfnameMatch(ctx: Ctx, name: string, node: NodeSpec, key: 'in' | 'out', text: string, path: Path): void {
  const ifname = text.startsWith('!') ? text.slice(1) : text;
  if (ifname === '') {
    report(ctx, path, `${key}: ${JSON.stringify(text)} names no interface`, `write ${key}: "!eth0" to match every interface but eth0`);
    return;
  }
  const problem = ifnameMessage(ifname, ` in ${key}: ${JSON.stringify(text)}`);
  if (problem) {
    report(ctx, path, problem.message, problem.hint);
    return;
  }
  const devices = devicesOf(ctx, name, node);
  if (kindOf(node) === 'netns' && !devices.has(ifname)) {
    report(
      ctx,
      path,
      `${key}: ${ifname} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`,
      `name one of them${didYouMean(ifname, [...devices])}`,
    );
  }
}

/** Families of the addresses in one rule must agree: a rule is for IPv4 or for IPv6. */
function checkFamilies(ctx: Ctx, families: RuleFamily[]): Family | undefined {
  const known = families.filter((f): f is RuleFamily & { family: Family } => f.family !== null);
  const first = known[0];
  for (const other of known.slice(1)) {
    if (other.family !== first!.family) {
      report(
        ctx,
        other.path,
        `${other.key} is ${familyName(other.family)} but ${first!.key} is ${familyName(first!.family)}`,
        'a rule matches one family: split it into two rules',
      );
      return undefined;
    }
  }
  return first?.family;
}

function checkPortProto(ctx: Ctx, rule: { port?: number; proto?: string }, path: Path): void {
  if (rule.port === undefined) return;
  if (rule.proto === undefined) report(ctx, [...path, 'port'], `port ${rule.port} needs proto`, 'add proto: tcp or proto: udp');
  else if (rule.proto !== 'tcp' && rule.proto !== 'udp') {
    report(
      ctx,
      [...path, 'port'],
      `port ${rule.port} does not go with proto ${rule.proto}`,
      'a port needs proto: tcp or proto: udp',
    );
  }
}

function checkNat(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    (node.nat ?? []).forEach((rule, i) => {
      const path = ['nodes', name, 'nat', i];
      checkPortProto(ctx, rule, path);
      if (rule.in !== undefined) checkIfnameMatch(ctx, name, node, 'in', rule.in, [...path, 'in']);
      if (rule.out !== undefined) checkIfnameMatch(ctx, name, node, 'out', rule.out, [...path, 'out']);
      const families = matchFamilies(ctx, rule, path);
      const to = checkNatTarget(ctx, rule, path);
      if (to) families.push({ family: to, path: [...path, 'to'], key: `to ${rule.to}` });
      checkFamilies(ctx, families);
      checkNatHooks(ctx, rule, path);
    });
  }
}

/** The family of an address in a rule, where it is written, and how to name it in a message. */
interface RuleFamily {
  family: Family | null;
  path: Path;
  key: string;
}

function matchFamilies(ctx: Ctx, rule: { source?: string; destination?: string }, path: Path): RuleFamily[] {
  const families: RuleFamily[] = [];
  for (const key of ['source', 'destination'] as const) {
    const text = rule[key];
    if (text === undefined) continue;
    families.push({ family: checkAddressMatch(ctx, text, [...path, key], key), path: [...path, key], key: `${key} ${text}` });
  }
  return families;
}

/** The family of `to` when it is valid; reports a missing, misplaced or malformed one. */
function checkNatTarget(ctx: Ctx, rule: NonNullable<NodeSpec['nat']>[number], path: Path): Family | undefined {
  if (rule.type === 'masquerade') {
    if (rule.to !== undefined) {
      report(
        ctx,
        [...path, 'to'],
        'a masquerade rule takes no to',
        "it uses the address of the outgoing interface: remove to, or use type: snat",
        'key',
      );
    }
    return undefined;
  }
  if (rule.to === undefined) {
    const example = rule.type === 'snat' ? 'to: 198.51.100.100' : 'to: 172.18.0.10:8080';
    report(
      ctx,
      path,
      `a ${rule.type} rule has no "to"`,
      `add ${rule.type === 'snat' ? 'an address' : 'ADDR or ADDR:PORT'}, e.g. ${example}`,
    );
    return undefined;
  }
  if (rule.type === 'snat') {
    const ip = parseIp(rule.to);
    if (!ip) report(ctx, [...path, 'to'], `snat to ${JSON.stringify(rule.to)} is not an IP address`, 'e.g. to: 198.51.100.100');
    return ip?.family;
  }
  const target = parseHostPort(rule.to);
  if (!target) {
    report(
      ctx,
      [...path, 'to'],
      `dnat to ${JSON.stringify(rule.to)} is not ADDR or ADDR:PORT`,
      'e.g. to: 172.18.0.10:8080, or to: "[2001:db8::10]:8080" for IPv6',
    );
  }
  return target?.ip.family;
}

/** Source NAT runs after routing (no input interface), dnat before it (no output interface). */
function checkNatHooks(ctx: Ctx, rule: NonNullable<NodeSpec['nat']>[number], path: Path): void {
  if (rule.type !== 'dnat' && rule.in !== undefined) {
    report(
      ctx,
      [...path, 'in'],
      `a ${rule.type} rule cannot match in`,
      'source NAT happens after routing, on the way out: match out instead',
      'key',
    );
  }
  if (rule.type === 'dnat' && rule.out !== undefined) {
    report(
      ctx,
      [...path, 'out'],
      'a dnat rule cannot match out',
      'dnat happens before routing, when the output interface is not known yet: match in instead',
      'key',
    );
  }
  if (rule.local !== undefined && rule.type !== 'dnat') {
    report(ctx, [...path, 'local'], `local is only for dnat rules, not ${rule.type}`, 'remove local', 'key');
  }
}

function checkFirewall(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const chain of ['input', 'forward', 'output'] as const) {
      (node.firewall?.[chain]?.rules ?? []).forEach((rule, i) => {
        const path = ['nodes', name, 'firewall', chain, 'rules', i];
        checkPortProto(ctx, rule, path);
        if (chain === 'input' && rule.out !== undefined) {
          report(
            ctx,
            [...path, 'out'],
            'a rule of the input chain cannot match out',
            'packets to this node have no output interface: remove out',
            'key',
          );
        } else if (rule.out !== undefined) checkIfnameMatch(ctx, name, node, 'out', rule.out, [...path, 'out']);
        if (chain === 'output' && rule.in !== undefined) {
          report(
            ctx,
            [...path, 'in'],
            'a rule of the output chain cannot match in',
            'packets from this node have no input interface: remove in',
            'key',
          );
        } else if (rule.in !== undefined) checkIfnameMatch(ctx, name, node, 'in', rule.in, [...path, 'in']);
        const family = checkFamilies(ctx, matchFamilies(ctx, rule, path));
        checkIcmpFamily(ctx, rule.proto, family, path);
      });
    }
  }
}

function checkIcmpFamily(ctx: Ctx, proto: string | undefined, family: Family | undefined, path: Path): void {
  if (proto === 'icmp' && family === 6) {
    report(
      ctx,
      [...path, 'proto'],
      'proto icmp is IPv4 but the rule matches IPv6 addresses',
      'use proto: icmpv6',
    );
  }
  if (proto === 'icmpv6' && family === 4) {
    report(
      ctx,
      [...path, 'proto'],
      'proto icmpv6 is IPv6 but the rule matches IPv4 addresses',
      'use proto: icmp',
    );
  }
}

// ── tests

function checkTests(ctx: Ctx): void {
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
