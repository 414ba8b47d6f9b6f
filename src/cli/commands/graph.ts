// netlab graph FILE: the topology as Mermaid (default), DOT, or SVG through Graphviz's dot.
import { UserError } from '../../errors.js';
import { processRunner, type Runner } from '../../kernel/runner.js';
import { GRAPH_FORMATS, renderDot, renderMermaid, type GraphFormat } from '../../views/graph.js';
import { loadSpec, type VarOptions } from '../context.js';
import type { Output } from '../output.js';

export interface GraphOptions extends VarOptions {
  format?: string;
}

function checkFormat(format: string | undefined): GraphFormat {
  const f = (format ?? 'mermaid').toLowerCase();
  if (!(GRAPH_FORMATS as readonly string[]).includes(f)) {
    throw new UserError(`--format ${format}: use one of ${GRAPH_FORMATS.join(', ')}`);
  }
  return f as GraphFormat;
}

/** DOT → SVG through Graphviz; a missing `dot` is one line naming the package to install. */
export async function dotToSvg(dot: string, runner: Runner): Promise<string> {
  const result = await runner.run(['dot', '-Tsvg'], dot);
  if (result.exitCode === 127 || /ENOENT|not found/i.test(result.exitCode !== 0 ? result.stderr : '')) {
    throw new UserError(
      'netlab graph --format svg needs Graphviz: install the Debian package graphviz (apt-get install graphviz), or use --format dot or mermaid',
    );
  }
  if (result.exitCode !== 0) throw new UserError(`dot -Tsvg failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  return result.stdout;
}

export async function graphCommand(file: string, options: GraphOptions, out: Output, runner: Runner = processRunner()): Promise<number> {
  const format = checkFormat(options.format);
  const { spec } = await loadSpec(file, out, options);
  if (format === 'mermaid') out.out(renderMermaid(spec));
  else if (format === 'dot') out.out(renderDot(spec));
  else out.out(await dotToSvg(renderDot(spec), runner));
  return 0;
}
