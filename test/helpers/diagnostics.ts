// What every diagnostic of a bad input must be: in the file, at a real position (1:1 for a file that
// is no lab as a whole, line 0 for one that could not be read), one printable line that says what is wrong, with no trace of an internal error.
import { formatDiagnostic, hasErrors, type Diagnostic } from '../../src/diagnostics.js';

/** Text that a diagnostic must not carry raw: it would break the one-line format or hide what is shown. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

/** A diagnostic is one line that a person reads: a huge value in it is shortened. */
const MAX_TEXT = 1000;

/** What an internal failure leaks into a message. */
const INTERNAL = /(^|\n)\s+at |\b(TypeError|RangeError|ReferenceError|SyntaxError)\b|Maximum call stack|\[object Object\]|Cannot read propert/;

/** Checks one result of loadLab/parseLab; returns what is wrong with it (nothing when it is right). */
export function checkLoaded(
  loaded: { file: string; spec?: unknown; diagnostics: Diagnostic[] },
  path: string,
  text: string | undefined,
): string[] {
  const problems: string[] = [];
  const lines = text?.split('\n');
  if (loaded.file !== path) problems.push(`file is ${loaded.file}`);
  if (loaded.spec !== undefined && hasErrors(loaded.diagnostics)) problems.push('a spec despite errors');
  if (loaded.spec === undefined && !hasErrors(loaded.diagnostics)) problems.push('neither a spec nor an error');
  const shownOnce = new Set<string>();
  for (const d of loaded.diagnostics) {
    const key = `${d.line}:${d.col}:${d.severity}:${d.message}`;
    if (shownOnce.has(key)) problems.push(`${key.slice(0, 200)}: reported twice`);
    shownOnce.add(key);
    const shown = formatDiagnostic(d);
    const at = `${d.line}:${d.col} ${shown.slice(0, 300)}`;
    if (d.file !== path) problems.push(`${at}: names file ${d.file}`);
    if (d.severity !== 'error' && d.severity !== 'warning') problems.push(`${at}: severity ${String(d.severity)}`);
    if (!Number.isInteger(d.line) || !Number.isInteger(d.col) || d.line < 0 || d.col < 0) problems.push(`${at}: bad position`);
    if (d.line === 0 && d.col !== 0) problems.push(`${at}: a column on line 0`);
    // 1:1 is the start of any file, even one with no text (empty, a directory, a fifo).
    if (d.line > 0 && !(d.line === 1 && d.col === 1)) {
      if (lines === undefined) problems.push(`${at}: a line in a file that has no text`);
      else if (d.line > lines.length) problems.push(`${at}: line past the end (${lines.length} lines)`);
      else if (d.col < 1 || d.col > lines[d.line - 1]!.length + 1) problems.push(`${at}: column outside line ${d.line}`);
    }
    if (typeof d.message !== 'string' || d.message.trim() === '') problems.push(`${at}: no message`);
    if (d.message.length > MAX_TEXT || (d.hint?.length ?? 0) > MAX_TEXT) problems.push(`${at}: ${shown.length} characters long`);
    for (const [what, value] of [['message', d.message], ['hint', d.hint ?? '']] as const) {
      if (INTERNAL.test(value)) problems.push(`${at}: the ${what} shows an internal error`);
      if (UNPRINTABLE.test(value)) problems.push(`${at}: the ${what} holds an unprintable character ${JSON.stringify(UNPRINTABLE.exec(value)![0])}`);
    }
    const where = d.line > 0 ? `${path}:${d.line}:${d.col}` : path;
    if (!shown.startsWith(`${where}: ${d.severity}: `)) problems.push(`${at}: formatted as ${shown.slice(0, 100)}`);
  }
  return problems;
}

