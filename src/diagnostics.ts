// Problems found in a lab file. Bad input is reported, never thrown.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the problem has no place in the file (it could not be read). An empty file's is 1:1. */
  line: number;
  col: number;
  severity: Severity;
  /** What is wrong. */
  message: string;
  /** What would be right. */
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return `${where}: ${d.severity}: ${d.message}${d.hint ? ` — ${d.hint}` : ''}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sorted by position so that output is stable and reads top to bottom. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
}
