import { loadLab } from '../../config/load.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../../diagnostics.js';
import { ConfigError } from '../../errors.js';
import { resolveLinks } from '../../model/resolve.js';
import { loadOptions, type VarOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';

export interface ValidateOptions extends VarOptions {
  json?: boolean;
  output?: string;
}

/** A diagnostic in a document: where (line 0 for a file that could not be read as text), how bad, what and what instead. */
function diagnosticJson(d: Diagnostic): object {
  return { file: d.file, line: d.line, col: d.col, severity: d.severity, message: d.message, ...(d.hint ? { hint: d.hint } : {}) };
}

export async function validateCommand(file: string, options: ValidateOptions, out: Output): Promise<number> {
  const loaded = await loadLab(file, loadOptions(options));
  const format = outputFormat(options);
  if (format === 'text') {
    if (hasErrors(loaded.diagnostics) || !loaded.spec) throw new ConfigError(loaded.diagnostics);
    for (const d of loaded.diagnostics) out.err(formatDiagnostic(d));
  }
  const spec = hasErrors(loaded.diagnostics) ? undefined : loaded.spec;
  const nodes = spec ? Object.keys(spec.nodes).length : 0;
  const links = spec ? resolveLinks(spec).length : 0;
  if (format !== 'text') {
    printDocument(out, format, {
      file: loaded.file,
      valid: spec !== undefined,
      lab: spec?.name ?? null,
      nodes,
      links,
      variables: loaded.variables ?? [],
      errors: loaded.diagnostics.filter((d) => d.severity === 'error').map(diagnosticJson),
      warnings: loaded.diagnostics.filter((d) => d.severity === 'warning').map(diagnosticJson),
    });
    return spec ? 0 : 65;
  }
  out.out(`${loaded.file}: lab ${spec!.name} is valid (${nodes} node(s), ${links} link(s)).`);
  return 0;
}
