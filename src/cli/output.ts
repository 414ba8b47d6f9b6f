// Where commands write. Passed in, so tests can capture it.
import { stringify } from 'yaml';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/**
 * The version of every JSON (and YAML) document netlab writes. It goes up when a documented field
 * changes meaning or goes away; new fields do not change it.
 */
export const FORMAT_VERSION = 1;

/** A document for tools: format_version first, then its fields. */
export function versioned<T extends object>(document: T): { format_version: number } & T {
  return { format_version: FORMAT_VERSION, ...document };
}

/** Writes a document as JSON (indented) or YAML, with its format_version. */
export function printDocument(out: Output, format: 'json' | 'yaml', document: object): void {
  const doc = versioned(document);
  out.out(format === 'yaml' ? stringify(doc, { lineWidth: 0 }) : JSON.stringify(doc, null, 2));
}
