// Option values checked while commander parses them: a bad value is a usage error (exit 64, with
// the usage line), found before anything is read or changed.
import { InvalidArgumentError } from 'commander';
import { parseVarOption } from '../config/variables.js';

/** --concurrency: a whole number ≥ 1, kept as the text given (engineDeps reads it). */
export function positiveInteger(text: string): string {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InvalidArgumentError('give a whole number ≥ 1, e.g. 8.');
  return text;
}

/** --wait: seconds ≥ 0, fractions allowed. */
export function seconds(text: string): string {
  if (text.trim() === '' || !Number.isFinite(Number(text)) || Number(text) < 0) throw new InvalidArgumentError('give a number of seconds ≥ 0, e.g. 60.');
  return text;
}

/** --var NAME=VALUE, repeatable: the values gathered so far with this one added. */
export function collectVar(text: string, previous: Record<string, string> = {}): Record<string, string> {
  try {
    const [name, value] = parseVarOption(text);
    return { ...previous, [name]: value };
  } catch {
    throw new InvalidArgumentError('give NAME=VALUE, NAME made of letters, digits and "_", e.g. --var APP_PID=4242.');
  }
}

export type OutputFormat = 'text' | 'json' | 'yaml';

/** --json, or kubectl's -o json|yaml: which one the command writes. */
export function outputFormat(options: { json?: boolean; output?: string }): OutputFormat {
  if (options.output === 'json' || options.output === 'yaml') return options.output;
  return options.json ? 'json' : 'text';
}
