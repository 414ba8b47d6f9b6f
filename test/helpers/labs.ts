// The labs in topologies/, ready to apply inside a sandbox.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPOLOGIES, type Sandbox } from './sandbox.js';

export const LABS = readdirSync(TOPOLOGIES)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .sort();

/** The placeholder pid a kind: attach lab in topologies/ names; replaced by a live one. */
const PLACEHOLDER_PID = /pid: 4242\b/;

/**
 * The file to apply: the lab itself, or, for a lab that attaches a process's namespace, a copy
 * naming a "container" started for it in the sandbox (`unshare --net sleep`).
 */
export async function prepareLab(sb: Sandbox, name: string): Promise<string> {
  const file = join(TOPOLOGIES, name);
  const text = readFileSync(file, 'utf8');
  if (!PLACEHOLDER_PID.test(text)) return file;
  await sb.ok(['sh', '-c', 'unshare --net sleep 4243 >/dev/null 2>&1 &']);
  const pid = (await sb.ok(['sh', '-c', 'for i in $(seq 50); do p=$(pgrep -n -f "^sleep 4243"); [ -n "$p" ] && echo $p && exit 0; sleep 0.1; done; exit 1'])).trim();
  const copy = join(mkdtempSync(join(tmpdir(), 'netlab-lab-')), name);
  writeFileSync(copy, text.replace(PLACEHOLDER_PID, `pid: ${pid}`));
  return copy;
}
