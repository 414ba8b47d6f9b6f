// Reads a lab file into a LabSpec, or into diagnostics that say where and what is wrong: the
// bytes (file, pipe or stdin; size and UTF-8 checked) here, the YAML document in
// yaml-document.ts, the lab's meaning in validate.ts.
import { createReadStream } from 'node:fs';
import { readlink, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import { printable, sortedPrintable } from './printable.js';
import type { LabSpec } from './spec.js';
import { validateLab, type Locate, type Position } from './validate.js';
import { substituteVariables, type Variables } from './variables.js';
import { checkKeys, createLocator, parseYaml, toPlain, yamlDiagnostic } from './yaml-document.js';

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

/** Larger than any lab file; guards against pointing netlab at a disk image or a log. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

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

function unreadable(file: string, message: string, hint: string): LoadedLab {
  return { file, diagnostics: [fileProblem(file, message, hint)] };
}

function notALab(file: string, message: string, hint: string): LoadedLab {
  return { file, diagnostics: [wholeFileProblem(file, message, hint)] };
}

/** Pure (but for reading the schema once): the same text always gives the same result. */
export function parseLab(text: string, file: string, variables: Variables = {}): LoadedLab {
  if (text.trim() === '') return notALab(file, 'the file is empty', EMPTY_HINT);
  const { doc, lineCounter } = parseYaml(text);
  const at = (offset: number): Position => lineCounter.linePos(offset);
  const yamlProblems = [
    ...doc.errors.map((e) => yamlDiagnostic(file, e, 'error', at)),
    ...doc.warnings.map((e) => yamlDiagnostic(file, e, 'warning', at)),
  ];
  if (doc.errors.length > 0) return { file, diagnostics: sortedPrintable(yamlProblems) };
  if (doc.contents === null) {
    return { file, diagnostics: sortedPrintable([wholeFileProblem(file, 'the file has only comments', EMPTY_HINT), ...yamlProblems]) };
  }
  const locate = createLocator(doc, lineCounter);
  const keyProblems = checkKeys(doc.contents, [], at).map((p) => ({ file, severity: 'error' as const, ...p }));
  if (keyProblems.length > 0) return { file, locate, diagnostics: sortedPrintable([...yamlProblems, ...keyProblems]) };
  const substituted = substituteVariables(doc, text, variables, at);
  const variableProblems = substituted.problems.map((p) => ({ file, severity: 'error' as const, ...p }));
  if (variableProblems.length > 0) return { file, locate, variables: substituted.names, diagnostics: sortedPrintable([...yamlProblems, ...variableProblems]) };
  const converted = toPlain(doc, file, at, locate);
  if ('diagnostic' in converted) return { file, locate, diagnostics: sortedPrintable([...yamlProblems, converted.diagnostic]) };
  const diagnostics = sortedPrintable([...yamlProblems, ...validateLab(converted.data, file, locate)]);
  return { file, locate, variables: substituted.names, diagnostics, spec: hasErrors(diagnostics) ? undefined : withKeyFilesFrom(converted.data as LabSpec, file) };
}

/** A wireguard interface's `key:` is relative to the lab file (to the working directory for stdin), as a user reads it. */
function withKeyFilesFrom(spec: LabSpec, file: string): LabSpec {
  const base = file === STDIN_NAME ? process.cwd() : dirname(resolve(file));
  for (const node of Object.values(spec.nodes)) {
    for (const iface of Object.values(node.interfaces ?? {})) if (iface.kind === 'wireguard' && iface.key !== undefined) iface.key = resolve(base, iface.key);
  }
  return spec;
}
