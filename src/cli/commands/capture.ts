// netlab capture FILE|NAME NODE:IF: tcpdump inside a node of an applied lab, decoded lines live
// or a pcap; Ctrl-C stops it cleanly.
import { UserError } from '../../errors.js';
import { netnsPath, stateDir } from '../../kernel/paths.js';
import { inNamespace, processRunner } from '../../kernel/runner.js';
import { readRecord } from '../../state/record.js';
import { parseNodeInterface, runCapture, tcpdumpArgv } from '../../capture/tcpdump.js';
import { requireRoot, type VarOptions } from '../context.js';
import type { Output } from '../output.js';
import { commandProblem } from './exec.js';
import { labNameOf } from './trace.js';

export interface CaptureOptions extends VarOptions {
  filter?: string;
  count?: string;
  write?: string;
}

function countOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1) throw new UserError(`--count takes a whole number of packets ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}

export async function captureCommand(target: string, where: string, options: CaptureOptions, out: Output): Promise<number> {
  const { node, iface } = parseNodeInterface(where);
  const count = countOf(options.count);
  const lab = await labNameOf(target, options, out);
  requireRoot();
  const record = await readRecord(stateDir(), lab);
  if (!record) throw new UserError(`no applied lab ${lab} — see netlab ls`);
  const recorded = record.nodes[node];
  if (!recorded) throw new UserError(`no node ${node} in lab ${lab} (nodes: ${Object.keys(record.nodes).sort().join(', ')})`);
  if (commandProblem('tcpdump', process.env.PATH)) throw new UserError('tcpdump not found on PATH — install with: apt-get install -y tcpdump');
  const link = await processRunner().run(inNamespace(recorded.netns, ['ip', '-j', 'link', 'show', 'dev', iface]));
  if (link.exitCode !== 0) throw new UserError(`node ${node} has no interface ${iface} (see netlab status ${lab} --node ${node})`);

  const nsPath = recorded.netns === null ? null : netnsPath(recorded.netns);
  const argv = tcpdumpArgv({ nsPath, iface, ...(options.filter !== undefined ? { filter: options.filter } : {}), ...(count !== undefined ? { count } : {}), ...(options.write !== undefined ? { write: options.write } : {}) });
  const result = await runCapture(argv, { line: (l) => out.out(l), note: (l) => out.err(l) });
  // Stopped by Ctrl-C, tcpdump ends as asked: a clean stop, not a failure.
  if (result.stopped) return 0;
  if (result.exitCode !== 0) {
    const last = result.stderr.trim().split('\n').pop() ?? '';
    throw new UserError(`tcpdump in ${node} on ${iface} failed (exit ${result.exitCode}): ${last.replace(/^tcpdump: /, '')}`);
  }
  return 0;
}
