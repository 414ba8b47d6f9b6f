// Reads a lab file into a LabSpec, or into diagnostics that say where and what is wrong. The YAML
// document keeps the range of every node, so each diagnostic points at the offending value.
import { createReadStream } from 'node:fs';
import { readlink, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type YAMLError,
} from 'yaml';
import { hasErrors, sortDiagnostics, type Diagnostic, type Severity } from '../diagnostics.js';
import type { LabSpec } from './spec.js';
import { pathText, validateLab, type Locate, type Path, type Position } from './validate.js';
import { substituteVariables, type Variables } from './variables.js';

/** How a lab is read: `-` for stdin, and the values of its ${NAME} references. */
export interface LoadOptions extends Variables {
  /** What `-` reads (default process.stdin). */
  stdin?: Readable;
}

/** The name diagnostics give the lab read from stdin: <stdin>:LINE:COL. */
export const STDIN_NAME = '<stdin>';

export interface LoadedLab {
  file: string;
  /** Set only when there are no errors. */
  spec?: LabSpec;
  /** Sorted by position. */
  diagnostics: Diagnostic[];
  /** Where a value of the file sits, for problems found later (resolve, plan); set once the YAML parsed. */
  locate?: Locate;
  /** The ${NAME} variables the file refers to, sorted. */
  variables?: string[];
  /** The text read, once it decoded as UTF-8: what the lab was parsed from (a saved plan keeps it). */
  text?: string;
}

/**
 * How many alias expansions the conversion to JS may do. An alias bomb (each level a list of
 * aliases of the level before) would otherwise grow exponentially; a real lab needs few.
 */
export const MAX_ALIAS_COUNT = 1000;

/** Larger than any lab file; guards against pointing netlab at a disk image or a log. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

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

const EMPTY_HINT = 'a lab needs at least name: and nodes:, e.g. "name: my-lab" and "nodes: {a: {}}"';

export async function loadLab(file: string, options: LoadOptions = {}): Promise<LoadedLab> {
  if (file === '-') return readLab(STDIN_NAME, options.stdin ?? process.stdin, options);
  try {
    const info = await stat(file);
    if (info.isDirectory()) return notALab(file, 'is a directory, not a lab file', 'give the path of a YAML lab file');
    // A pipe that is already open is read as a file: `<(generate-lab)` names one (/dev/fd/N). A
    // named pipe (mkfifo) is not: it would wait, maybe for ever, for a writer.
    if (!info.isFile() && !(info.isFIFO() && (await isOpenPipe(file)))) return notALab(file, 'is not a regular file', 'give the path of a YAML lab file, or - to read it from stdin');
    if (info.size > MAX_FILE_BYTES) {
      return notALab(file, `is ${info.size} bytes, too large for a lab file`, `a lab file is at most ${MAX_FILE_BYTES} bytes`);
    }
    return await readLab(file, createReadStream(file), options);
  } catch (err) {
    return unreadable(file, ...readProblem(err));
  }
}

/** /dev/fd/N (or /proc/self/fd/N) of a pipe this process holds: its link reads pipe:[INODE]. */
async function isOpenPipe(file: string): Promise<boolean> {
  return /^pipe:\[\d+\]$/.test(await readlink(file).catch(() => ''));
}

/** Reads a stream up to MAX_FILE_BYTES (a pipe has no size to check first), then parses it. */
async function readLab(file: string, stream: Readable, options: LoadOptions): Promise<LoadedLab> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > MAX_FILE_BYTES) {
      stream.destroy();
      return notALab(file, `holds more than ${MAX_FILE_BYTES} bytes, too large for a lab file`, `a lab file is at most ${MAX_FILE_BYTES} bytes`);
    }
    chunks.push(bytes);
  }
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString('utf8');
  const notUtf8 = invalidUtf8(bytes, text);
  if (notUtf8) return { file, diagnostics: [printable({ file, severity: 'error', ...notUtf8 })] };
  return { ...parseLab(text, file, options), text };
}

function readProblem(err: unknown): [string, string] {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return ['no such file', 'check the path'];
  if (code === 'EISDIR') return ['is a directory, not a lab file', 'give the path of a YAML lab file'];
  if (code === 'EACCES' || code === 'EPERM') return ['cannot be read: permission denied', 'make it readable, or run as a user who can read it'];
  // "ELOOP: too many symbolic links encountered, stat '/the/path'": the path is shown already.
  const text = err instanceof Error ? err.message.replace(/, \w+(?: '.*')?$/s, '') : String(err);
  return [`cannot be read: ${text}`, 'check that the path names a readable file'];
}

/**
 * Where the bytes stop being UTF-8, or undefined when they are UTF-8. Decoding would silently
 * turn a bad byte into U+FFFD, so a Latin-1 "café" would reach names and descriptions mangled.
 */
function invalidUtf8(bytes: Buffer, text: string): Omit<Diagnostic, 'file' | 'severity'> | undefined {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    // The first U+FFFD that the file does not spell as EF BF BD is the first bad byte.
    let offset = 0;
    let done = 0;
    for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) {
      offset += Buffer.byteLength(text.slice(done, i));
      done = i + 1;
      if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) {
        offset += 3;
        continue;
      }
      const line = text.slice(0, i).split('\n').length;
      const col = i - text.lastIndexOf('\n', i - 1);
      const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
      return {
        line,
        col,
        message: `the file is not UTF-8 text: byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} here is not valid UTF-8`,
        hint: utf16 ? 'it looks like UTF-16: save it as UTF-8' : 'save the file as UTF-8',
      };
    }
    return { line: 0, col: 0, message: 'the file is not UTF-8 text', hint: 'save the file as UTF-8' };
  }
}

/** A file that could not be read at all: it has no line to point at. */
function fileProblem(file: string, message: string, hint: string): Diagnostic {
  return printable({ file, line: 0, col: 0, severity: 'error', message, hint });
}

/**
 * A file that is there but is no lab as a whole (empty, only comments, a directory, a device, too
 * large): said at 1:1, so that editors and CI annotations that need a line still show it.
 */
function wholeFileProblem(file: string, message: string, hint: string): Diagnostic {
  return printable({ file, line: 1, col: 1, severity: 'error', message, hint });
}

/**
 * Characters of the user's text that would break a diagnostic's one line, or hide or reorder
 * what it shows: control characters (a terminal escape), bidi controls, zero-width ones, BOMs.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/** A message or hint longer than this quotes a huge value: its middle is cut. */
export const MAX_MESSAGE_CHARS = 1000;

function printableText(text: string): string {
  const escaped = text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped.length <= MAX_MESSAGE_CHARS) return escaped;
  const [head, tail] = [escaped.slice(0, 600), escaped.slice(-300)];
  return `${head} …(${escaped.length - head.length - tail.length} characters cut)… ${tail}`;
}

/** Every diagnostic leaves the loader as one printable line of bounded length. */
function printable(d: Diagnostic): Diagnostic {
  return { ...d, message: printableText(d.message), ...(d.hint === undefined ? {} : { hint: printableText(d.hint) }) };
}

/** Sorted, printable, and each once: an unclosed bracket nested a thousand times is one error. */
function sorted(diagnostics: Diagnostic[]): Diagnostic[] {
  const same = (a: Diagnostic, b: Diagnostic): boolean =>
    a.line === b.line && a.col === b.col && a.severity === b.severity && a.message === b.message;
  return sortDiagnostics(diagnostics)
    .filter((d, i, all) => i === 0 || !same(d, all[i - 1]!))
    .map(printable);
}

function unreadable(file: string, message: string, hint: string): LoadedLab {
  return { file, diagnostics: [fileProblem(file, message, hint)] };
}

function notALab(file: string, message: string, hint: string): LoadedLab {
  return { file, diagnostics: [wholeFileProblem(file, message, hint)] };
}

/** Pure (but for reading the schema once): the same text always gives the same result. */
export function parseLab(text: string, file: string, variables: Variables = {}): LoadedLab {
  if (text.trim() === '') return notALab(file, 'the file is empty', EMPTY_HINT);
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
  const at = (offset: number): Position => lineCounter.linePos(offset);
  const yamlProblems = [
    ...doc.errors.map((e) => yamlDiagnostic(file, e, 'error', at)),
    ...doc.warnings.map((e) => yamlDiagnostic(file, e, 'warning', at)),
  ];
  if (doc.errors.length > 0) return { file, diagnostics: sorted(yamlProblems) };
  if (doc.contents === null) {
    return { file, diagnostics: sorted([wholeFileProblem(file, 'the file has only comments', EMPTY_HINT), ...yamlProblems]) };
  }
  const locate = createLocator(doc, lineCounter);
  const keyProblems = checkKeys(doc.contents, [], at).map((p) => ({ file, severity: 'error' as const, ...p }));
  if (keyProblems.length > 0) return { file, locate, diagnostics: sorted([...yamlProblems, ...keyProblems]) };
  const substituted = substituteVariables(doc, text, variables, at);
  const variableProblems = substituted.problems.map((p) => ({ file, severity: 'error' as const, ...p }));
  if (variableProblems.length > 0) return { file, locate, variables: substituted.names, diagnostics: sorted([...yamlProblems, ...variableProblems]) };
  const converted = toPlain(doc, file, at, locate);
  if ('diagnostic' in converted) return { file, locate, diagnostics: sorted([...yamlProblems, converted.diagnostic]) };
  const diagnostics = sorted([...yamlProblems, ...validateLab(converted.data, file, locate)]);
  return { file, locate, variables: substituted.names, diagnostics, spec: hasErrors(diagnostics) ? undefined : (converted.data as LabSpec) };
}

// ── YAML syntax

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

function yamlDiagnostic(file: string, error: YAMLError, severity: Severity, at: (offset: number) => Position): Diagnostic {
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
function checkKeys(node: unknown, path: Path, at: (offset: number) => Position, depth = 1): KeyProblem[] {
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

type Converted = { data: unknown } | { diagnostic: Diagnostic };

function toPlain(doc: Document.Parsed, file: string, at: (offset: number) => Position, locate: Locate): Converted {
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

function createLocator(doc: Document.Parsed, lineCounter: LineCounter): Locate {
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
