// The YAML side of loading: the document parsed, its syntax errors and keys said with their
// lines, its conversion to plain JS guarded against alias bombs, and where each value sits.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import type { Diagnostic, Severity } from '../diagnostics.js';
import { pathText, type Locate, type Path, type Position } from './problem.js';

/**
 * How many alias expansions the conversion to JS may do. An alias bomb (each level a list of
 * aliases of the level before) would otherwise grow exponentially; a real lab needs few.
 */
export const MAX_ALIAS_COUNT = 1000;

/**
 * How deep collections may nest (the root mapping is level 1). A lab needs 8 at most
 * (nodes.c0.firewall.forward.rules[0].state); deeper input would overflow the stack of the
 * recursive walks below and of the conversion to JS.
 */
export const MAX_NESTING = 64;

/**
 * How many items one list or mapping may hold: ten times the largest lab measured (1000
 * namespaces). Beyond it the schema check slows quadratically with the number of bad items (ajv
 * copies its error list once per failing item).
 */
export const MAX_ITEMS = 10_000;

/** One YAML document, with the line of every offset. */
export function parseYaml(text: string): { doc: Document.Parsed; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  // uniqueKeys off: checkKeys reports duplicates with both lines. logLevel 'error': nothing on the
  // console ('silent' would also drop the error for a second document). The core schema without
  // known tags, even under %YAML 1.1: only JSON values, never a Set, Map, Date or Buffer (from
  // !!set, !!omap, !!timestamp, !!binary), which the JSON Schema would take for empty mappings.
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: false,
    logLevel: 'error',
    schema: 'core',
    resolveKnownTags: false,
    // <<: *defaults, as docker compose files use it.
    merge: true,
  });
  return { doc, lineCounter };
}

const YAML_HINTS: Record<string, string> = {
  BAD_INDENT: 'indent with spaces so that keys of one mapping line up',
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs there',
  MULTIPLE_DOCS: 'one lab per file: remove the "---" and what follows, or split the file',
  BLOCK_AS_IMPLICIT_KEY: 'write a space after ":", and put nested keys on the next lines, indented',
  MULTILINE_IMPLICIT_KEY: 'write a space after ":", and keep a key and its value on one line',
  MISSING_CHAR: 'add the missing closing character',
  BAD_SCALAR_START: 'quote a value that starts with a special character such as @, `, |, >, !, %, & or *',
  TAG_RESOLVE_FAILED: 'remove the tag (the word starting with "!"), or quote the value',
  RESOURCE_EXHAUSTION: 'a lab nests only a few levels deep: close the brackets, or remove the extra levels',
  BAD_DIRECTIVE: 'remove the line starting with "%", or write %YAML 1.2',
};

/** MISSING_CHAR covers more than closing brackets and quotes: hints by message. */
const MISSING_CHAR_HINTS: Array<[RegExp, string]> = [
  [/^Comments must be separated/, 'put a space before the "#" that starts a comment, or quote the value'],
  [/^Implicit map keys need to be followed/, 'write key: value, with a space after ":"'],
];

export function yamlDiagnostic(file: string, error: YAMLError, severity: Severity, at: (offset: number) => Position): Diagnostic {
  const { line, col } = at(error.pos[0]);
  const text =
    error.code === 'MULTIPLE_DOCS'
      ? 'the file holds more than one YAML document'
      : error.code === 'RESOURCE_EXHAUSTION' // the composer ran out of stack
        ? 'the file nests too deeply to be read'
        : error.message.split('\n')[0];
  const message = `${severity === 'error' ? 'YAML syntax error' : 'YAML warning'}: ${text}`;
  const unclosed = /end with an? (\S)/.exec(error.message);
  const hint = unclosed
    ? `close it with ${unclosed[1]}; lines inside it must be indented more than its key`
    : (MISSING_CHAR_HINTS.find(([pattern]) => pattern.test(error.message))?.[1] ??
      YAML_HINTS[error.code] ??
      'check the indentation and quoting here');
  return { file, line, col, severity, message, hint };
}

// ── keys: duplicates and keys that JS objects cannot hold

interface KeyProblem extends Position {
  message: string;
  hint: string;
}

/**
 * yaml would silently keep the last of two equal keys; both are usually a merge gone wrong.
 * Also refuses nesting deeper than MAX_NESTING, before anything recursive sees it.
 */
export function checkKeys(node: unknown, path: Path, at: (offset: number) => Position, depth = 1): KeyProblem[] {
  if ((isSeq(node) || isMap(node)) && depth > MAX_NESTING) {
    return [
      {
        ...at((node as Ranged).range?.[0] ?? 0),
        message: `the YAML ${where(path.slice(0, 2))} nests more than ${MAX_NESTING} levels deep`,
        hint: YAML_HINTS.RESOURCE_EXHAUSTION!,
      },
    ];
  }
  if ((isSeq(node) || isMap(node)) && node.items.length > MAX_ITEMS) {
    return [
      {
        ...at((node as Ranged).range?.[0] ?? 0),
        message: `${path.length === 0 ? 'the lab' : pathText(path)} holds ${node.items.length} items, more than the ${MAX_ITEMS} that netlab takes in one list or mapping`,
        hint: 'split the lab into several labs',
      },
    ];
  }
  if (isSeq(node)) return node.items.flatMap((item, i) => checkKeys(item, [...path, i], at, depth + 1));
  if (!isMap(node)) return [];
  const problems: KeyProblem[] = [];
  const first = new Map<string, number>();
  for (const pair of node.items) {
    const key = pair.key;
    if (key !== null && !isScalar(key)) {
      const offset = (key as Ranged).range?.[0] ?? 0;
      problems.push({ ...at(offset), message: `a key ${where(path)} is a list, mapping or alias`, hint: 'write keys as plain names' });
      continue;
    }
    if (!isScalar(key)) continue;
    const name = String(key.value);
    const offset = key.range?.[0] ?? 0;
    const before = first.get(name);
    if (before === undefined) first.set(name, offset);
    else {
      problems.push({
        ...at(offset),
        message: `duplicate key ${JSON.stringify(name)} ${where(path)} (first at line ${at(before).line})`,
        hint: 'a key may appear once in a mapping: merge the two entries, or delete one',
      });
    }
    problems.push(...checkKeys(pair.value, [...path, name], at, depth + 1));
  }
  return problems;
}

function where(path: Path): string {
  return path.length === 0 ? 'at the top level' : `in ${pathText(path)}`;
}

// ── conversion to plain JS, with the alias guard

export type Converted = { data: unknown } | { diagnostic: Diagnostic };

export function toPlain(doc: Document.Parsed, file: string, at: (offset: number) => Position, locate: Locate): Converted {
  try {
    return { data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const diagnostic = (where: Position, what: string, hint: string): Converted => ({
      diagnostic: { file, ...where, severity: 'error', message: what, hint },
    });
    if (message.includes('Excessive alias count')) {
      return diagnostic(
        firstAliasAt(doc, at) ?? locate([]),
        `the YAML aliases (*name) in this file expand to more than ${MAX_ALIAS_COUNT} copies: refused as an alias bomb`,
        'write the values out, or use far fewer aliases',
      );
    }
    const unresolved = /Unresolved alias.*: (.*)$/.exec(message);
    if (unresolved) {
      const name = unresolved[1]!;
      return diagnostic(
        firstAliasAt(doc, at, name) ?? locate([]),
        `alias *${name} refers to no anchor defined before it`,
        `define &${name} before this alias, or write the value out`,
      );
    }
    return diagnostic(locate([]), `the YAML document cannot be converted: ${message}`, 'check the anchors and aliases in the file');
  }
}

/** The position of the first alias (of a given anchor name) in document order. */
function firstAliasAt(doc: Document.Parsed, at: (offset: number) => Position, source?: string): Position | undefined {
  let found: number | undefined;
  const visit = (node: unknown): void => {
    if (found !== undefined) return;
    if (isAlias(node)) {
      if (source === undefined || node.source === source) found = node.range?.[0];
    } else if (isMap(node)) {
      for (const pair of node.items) {
        visit(pair.key);
        visit(pair.value);
      }
    } else if (isSeq(node)) node.items.forEach(visit);
  };
  visit(doc.contents);
  return found === undefined ? undefined : at(found);
}

// ── positions

interface Ranged {
  range?: [number, number, number] | null;
}

/** An empty value (`key:` and nothing) has an empty range at the end of the line: point at its key. */
function isEmptyNode(node: unknown): boolean {
  const range = (node as Ranged | null)?.range;
  return !range || range[0] === range[1];
}

export function createLocator(doc: Document.Parsed, lineCounter: LineCounter): Locate {
  const positionOf = (node: unknown): Position => {
    const range = (node as Ranged | null)?.range;
    return range ? lineCounter.linePos(range[0]) : { line: 1, col: 1 };
  };
  return (path, part = 'value') => {
    let node: unknown = doc.contents;
    let best: unknown = doc.contents;
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) node = node.resolve(doc);
      const seg = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        if (i === path.length - 1 && part === 'key') return positionOf(pair.key);
        best = isEmptyNode(pair.value) ? pair.key : pair.value;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        best = item;
        node = item;
      } else break;
    }
    return positionOf(best);
  };
}
