// The lab's record as the engine trusts it: the file under /run/netlab, or when that is bad (or,
// for destroy, missing) what the kernel's marks prove instead.
import { readLabMarks } from '../kernel/marks.js';
import type { LabState } from '../model/types.js';
import { nodesFromMarks } from '../state/bookkeeping.js';
import { loadRecord, type LabRecord } from '../state/record.js';
import type { EngineDeps } from './deps.js';

/** The root namespace's node in the file, so that what the marks prove there is given its name. */
function hostNodeOf(desired: LabState | undefined): string {
  return [...(desired?.nodes.values() ?? [])].find((n) => n.kind === 'host')?.node ?? 'host';
}

/**
 * The lab's record; when it is bad (or, for destroy, missing), what the kernel's marks prove
 * instead, said in one line. A record that is not the lab's own is never acted on.
 */
export async function knownRecord(lab: string, deps: EngineDeps, options: { desired?: LabState; scanIfMissing: boolean }): Promise<LabRecord | undefined> {
  const { record, problem, path } = await loadRecord(deps.stateDir, lab);
  if (record) return record;
  if (!problem && !options.scanIfMissing) return undefined;
  const host = hostNodeOf(options.desired);
  const nodes = nodesFromMarks(await readLabMarks(lab, deps), host);
  // What only the record knew: the host's sysctls from before the lab, addresses it added there.
  const lost = nodes[host] ? ' (the host sysctls it changed stay as they are: only the record knew their old values)' : '';
  if (problem) deps.onWarning?.(`record ${path} ${problem}; ignoring it and using the kernel's marks${lost}`);
  else if (Object.keys(nodes).length > 0) deps.onWarning?.(`record ${path} is missing; using the kernel's marks${lost}`);
  return Object.keys(nodes).length > 0 ? { lab, nodes, updated: '' } : undefined;
}
