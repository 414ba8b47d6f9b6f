// Every diagnostic leaves the loader as one printable line of bounded length: the user's text in
// a message can neither move the cursor nor flood the terminal.
import { sortDiagnostics, type Diagnostic } from '../diagnostics.js';

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
export function printable(d: Diagnostic): Diagnostic {
  return { ...d, message: printableText(d.message), ...(d.hint === undefined ? {} : { hint: printableText(d.hint) }) };
}

/** Sorted, printable, and each once: an unclosed bracket nested a thousand times is one error. */
export function sortedPrintable(diagnostics: Diagnostic[]): Diagnostic[] {
  const same = (a: Diagnostic, b: Diagnostic): boolean =>
    a.line === b.line && a.col === b.col && a.severity === b.severity && a.message === b.message;
  return sortDiagnostics(diagnostics)
    .filter((d, i, all) => i === 0 || !same(d, all[i - 1]!))
    .map(printable);
}
