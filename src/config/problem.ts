// A problem found in a lab file: the path to the offending value, and what to say about it.
// Schema errors and semantic checks both produce Problems; each becomes a Diagnostic at the
// position its path resolves to.
import type { Diagnostic } from '../diagnostics.js';
import type { Path } from '../model/spec.js';

export type { Path };

export interface Position {
  line: number;
  col: number;
}

/** Where a value sits in the file; with part 'key', where its key sits (for unknown keys). */
export type Locate = (path: Path, part?: 'key' | 'value') => Position;

export interface Problem {
  path: Path;
  part?: 'key' | 'value';
  message: string;
  hint?: string;
  /** Default error: a warning is shown and does not stop the lab. */
  severity?: 'error' | 'warning';
}

export function toDiagnostic(problem: Problem, file: string, locate: Locate): Diagnostic {
  const { line, col } = locate(problem.path, problem.part);
  return { file, line, col, severity: problem.severity ?? 'error', message: problem.message, hint: problem.hint };
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
