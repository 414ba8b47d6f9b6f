import { loadLab } from '../../config/load.js';
import { hasErrors, type Diagnostic } from '../../diagnostics.js';
import { resolveLinks } from '../../model/resolve.js';
import { loadOptions, loadSpec, type VarOptions } from '../context.js';
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
  const format = outputFormat(options);
  if (format === 'text') {
    const loaded = await loadSpec(file, out, options);
    out.out(`${loaded.file}: lab ${loaded.spec.name} is valid (${Object.keys(loaded.spec.nodes).length} node(s), ${resolveLinks(loaded.spec).length} link(s)).`);
    return 0;
  }
  // A document for tools: valid or not, with every diagnostic, and exit 65 when not valid.
  const loaded = await loadLab(file, loadOptions(options));
  const spec = hasErrors(loaded.diagnostics) ? undefined : loaded.spec;
  printDocument(out, format, {
    file: loaded.file,
    valid: spec !== undefined,
    lab: spec?.name ?? null,
    nodes: spec ? Object.keys(spec.nodes).length : 0,
    links: spec ? resolveLinks(spec).length : 0,
    variables: loaded.variables ?? [],
    errors: loaded.diagnostics.filter((d) => d.severity === 'error').map(diagnosticJson),
    warnings: loaded.diagnostics.filter((d) => d.severity === 'warning').map(diagnosticJson),
  });
  return spec ? 0 : 65;
}
