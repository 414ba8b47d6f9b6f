// netlab export NS...: a lab file describing live namespaces, for bug reports and teaching.
import { hostname } from 'node:os';
import { parse } from 'yaml';
import { parseLab } from '../../config/load.js';
import { formatDiagnostic } from '../../diagnostics.js';
import { UserError } from '../../errors.js';
import { readNamespaces } from '../../kernel/export-read.js';
import { processRunner } from '../../kernel/runner.js';
import { LAB_NAME_PATTERN } from '../../model/names.js';
import { badNodeName, exportLab } from '../../views/export.js';
import { requireRoot, type CommonOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';

export interface ExportOptions extends CommonOptions {
  name?: string;
  json?: boolean;
  output?: string;
}

export async function exportCommand(namespaces: string[], options: ExportOptions, out: Output): Promise<number> {
  const names = [...new Set(namespaces)];
  if (options.name !== undefined && !LAB_NAME_PATTERN.test(options.name)) {
    throw new UserError(`--name ${options.name}: a lab name matches ${LAB_NAME_PATTERN.source}, e.g. --name my-lab`);
  }
  const bad = names.filter(badNodeName);
  if (bad.length > 0) throw new UserError(`cannot export ${bad.join(', ')}: a node name (the namespace's name) may only hold letters, digits, '_', '.' and '-'`);
  requireRoot();
  const concurrency = Number(options.concurrency ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UserError(`--concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  const snapshots = await readNamespaces(names, { runner: processRunner(), concurrency });
  const command = ['netlab export', ...(options.name ? ['--name', options.name] : []), ...names].join(' ');
  const text = exportLab(snapshots, { name: options.name, exportedAt: new Date(), command, host: hostname() });
  // What export writes must load; if the live state is something the format rejects, say what.
  const { diagnostics } = parseLab(text, '(export)');
  const format = outputFormat(options);
  if (format === 'text') out.out(text);
  else {
    const valid = !diagnostics.some((d) => d.severity === 'error');
    printDocument(out, format, { namespaces: names, valid, lab: parse(text) as unknown, yaml: text, errors: diagnostics.map((d) => d.message) });
  }
  for (const d of diagnostics) out.err(formatDiagnostic(d));
  if (diagnostics.some((d) => d.severity === 'error')) {
    out.err('error: the exported lab does not validate as it is (see above): the live state holds something the format does not accept; edit the file before applying it.');
    return 1;
  }
  return 0;
}
