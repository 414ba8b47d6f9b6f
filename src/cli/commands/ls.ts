import { stateDir } from '../../kernel/paths.js';
import { listRecords, type LabRecord } from '../../state/record.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';

/** The documented fields of a record, not its bookkeeping (inodes, nft fingerprints, what it made in shared namespaces). */
function labJson(record: LabRecord): object {
  const nodes = Object.fromEntries(Object.entries(record.nodes).map(([name, node]) => [name, { netns: node.netns, kind: node.kind }]));
  return { lab: record.lab, file: record.file ?? null, updated: record.updated, nodes };
}

export async function lsCommand(options: { json?: boolean; output?: string }, out: Output): Promise<number> {
  const records = await listRecords(stateDir());
  const format = outputFormat(options);
  if (format !== 'text') {
    printDocument(out, format, { labs: records.map(labJson) });
    return 0;
  }
  if (records.length === 0) {
    out.out('No labs applied on this machine.');
    return 0;
  }
  const rows = records.map((r) => [r.lab, String(Object.keys(r.nodes).length), r.updated, r.file ?? '']);
  const header = ['LAB', 'NODES', 'UPDATED', 'FILE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) out.out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return 0;
}
