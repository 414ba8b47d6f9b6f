// Finding a node of an applied lab by name, from the labs' records: for exec and status.
import { UserError } from '../errors.js';
import { listRecords, type LabRecord, type RecordedNode } from '../state/record.js';

export interface LocatedNode {
  lab: string;
  node: string;
  recorded: RecordedNode;
}

export async function findNode(stateDir: string, node: string, lab?: string): Promise<LocatedNode> {
  const records = (await listRecords(stateDir)).filter((r) => lab === undefined || r.lab === lab);
  const found = records.filter((r) => r.nodes[node] !== undefined);
  if (found.length === 1) return { lab: found[0]!.lab, node, recorded: found[0]!.nodes[node]! };
  if (found.length > 1) {
    throw new UserError(`node ${node} is in several labs (${found.map((r) => r.lab).join(', ')}) — say which with --lab NAME`);
  }
  const where = lab ? `lab ${lab}` : 'any applied lab';
  const known = records.flatMap((r: LabRecord) => Object.keys(r.nodes).map((n) => `${r.lab}/${n}`));
  throw new UserError(`no node ${node} in ${where}${known.length ? ` (nodes: ${known.join(', ')})` : ' — see netlab ls'}`);
}
