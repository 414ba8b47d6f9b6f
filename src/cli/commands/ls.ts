import { stateDir } from '../../kernel/paths.js';
import { listRecords } from '../../state/record.js';
import type { Output } from '../output.js';

export async function lsCommand(options: { json?: boolean }, out: Output): Promise<number> {
  const records = await listRecords(stateDir());
  if (options.json) {
    out.out(JSON.stringify(records, null, 2));
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
