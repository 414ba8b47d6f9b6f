// ${NAME} and ${NAME:-default} in a lab file's scalar values, from --var NAME=VALUE and the
// environment, as docker compose does. Keys are never substituted; `$${` writes a literal `${`.
import { isMap, isScalar, isSeq, parse, type Document, type Scalar } from 'yaml';
import type { Position } from './problem.js';

/** Where a value comes from: --var first, then the environment. */
export interface Variables {
  vars?: Readonly<Record<string, string>>;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface VariableProblem extends Position {
  message: string;
  hint: string;
}

/** `$${`, or `${` up to its `}` (or the end of the text when there is none). */
const REFERENCE = /\$\$\{|\$\{([^}]*)(\}?)/g;
const NAMED = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** NAME=VALUE from --var; a malformed one is refused before anything is read. */
export function parseVarOption(text: string): [string, string] {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(text);
  if (!match) throw new Error(`--var takes NAME=VALUE with NAME made of letters, digits and '_', got ${JSON.stringify(text)}`);
  return [match[1]!, match[2]!];
}

function lookup(name: string, variables: Variables): string | undefined {
  return variables.vars?.[name] ?? variables.env?.[name];
}

interface Substituted {
  text: string;
  problems: Array<{ offset: number; message: string; hint: string }>;
  names: string[];
}

/** Pure: the text with every reference replaced, and what could not be. */
export function substituteText(text: string, variables: Variables): Substituted {
  const problems: Substituted['problems'] = [];
  const names: string[] = [];
  const out = text.replace(REFERENCE, (whole: string, inner: string | undefined, close: string | undefined, offset: number) => {
    if (whole === '$${') return '${';
    const named = close ? NAMED.exec(inner!) : null;
    if (!named) {
      problems.push({
        offset,
        message: `${JSON.stringify(whole)} is not a variable reference netlab knows`,
        hint: 'write ${NAME} or ${NAME:-default}, or $${ for a literal ${',
      });
      return whole;
    }
    const [, name, fallback] = named as unknown as [string, string, string | undefined];
    names.push(name);
    const value = lookup(name, variables);
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    if (value === '') return value;
    problems.push({
      offset,
      message: `variable ${name} is not defined`,
      hint: `set it in the environment (${name}=... netlab ...), pass --var ${name}=VALUE, or write \${${name}:-default}`,
    });
    return whole;
  });
  return { text: out, problems, names };
}

/** A plain (unquoted) scalar is typed after substitution, as if written so: pid: ${PID} → a number. */
function typed(text: string): unknown {
  try {
    const value: unknown = parse(text, { schema: 'core' });
    return typeof value === 'number' || typeof value === 'boolean' ? value : text;
  } catch {
    return text;
  }
}

/**
 * Replaces the references in every scalar value of the document, in place. Returns the problems
 * (at the position of each reference) and the names of the variables the file refers to.
 */
export function substituteVariables(
  doc: Document.Parsed,
  source: string,
  variables: Variables,
  at: (offset: number) => Position,
): { problems: VariableProblem[]; names: string[] } {
  const problems: VariableProblem[] = [];
  const names = new Set<string>();
  const visitValue = (node: unknown): void => {
    if (isMap(node)) for (const pair of node.items) visitValue(pair.value);
    else if (isSeq(node)) node.items.forEach(visitValue);
    else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) substituteScalar(node);
  };
  const substituteScalar = (node: Scalar): void => {
    const value = node.value as string;
    const result = substituteText(value, variables);
    result.names.forEach((n) => names.add(n));
    const start = node.range?.[0] ?? 0;
    const raw = source.slice(start, node.range?.[1] ?? start);
    for (const p of result.problems) {
      // The reference as written: its offset in the source, or the scalar's start when quoting moved it.
      const written = raw.indexOf(value.slice(p.offset, value.indexOf('}', p.offset) + 1 || undefined));
      problems.push({ ...at(start + Math.max(written, 0)), message: p.message, hint: p.hint });
    }
    if (result.problems.length === 0) node.value = node.type === 'PLAIN' ? typed(result.text) : result.text;
  };
  visitValue(doc.contents);
  return { problems, names: [...names].sort() };
}
