// netlab version, netlab schema, netlab completion: what netlab says of itself, for tools and editors.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { completionScript, type Shell } from '../completion.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';
import { packageInfo, SCHEMA_FILE } from '../package-info.js';

export function versionCommand(options: { json?: boolean; output?: string }, out: Output): number {
  const { name, version } = packageInfo();
  const format = outputFormat(options);
  if (format === 'text') out.out(`${name} ${version}`);
  else printDocument(out, format, { name, version, node: process.versions.node });
  return 0;
}

/** The schema's text, or with --path where it is installed (for `# yaml-language-server: $schema=PATH`). */
export function schemaCommand(options: { path?: boolean; id?: boolean }, out: Output): number {
  const text = readFileSync(SCHEMA_FILE, 'utf8');
  if (options.path) out.out(SCHEMA_FILE);
  else if (options.id) out.out(String((JSON.parse(text) as { $id?: string }).$id));
  else out.out(text);
  return 0;
}

export function completionCommand(shell: Shell, program: Command, out: Output): number {
  out.out(completionScript(shell, program));
  return 0;
}
