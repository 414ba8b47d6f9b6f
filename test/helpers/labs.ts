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
/** A container a kind: attach lab names; here a stand-in process (docker.test.ts runs real ones). */
const CONTAINER = /container: [A-Za-z0-9][A-Za-z0-9_.-]*/;

/** A "container": a process in a network namespace of its own, started in the sandbox; its pid. */
async function standIn(sb: Sandbox): Promise<string> {
  const before = (await sb.ok(['sh', '-c', 'pgrep -d " " -f "^sleep 4243" || true'])).trim().split(' ');
  await sb.ok(['sh', '-c', 'unshare --net sleep 4243 >/dev/null 2>&1 &']);
  const found = await sb.ok(['sh', '-c', `for i in $(seq 50); do p=$(pgrep -n -f "^sleep 4243"); [ -n "$p" ] && ! echo " ${before.join(' ')} " | grep -q " $p " && echo $p && exit 0; sleep 0.1; done; exit 1`]);
  return found.trim();
}

/**
 * The file to apply: the lab itself, or, for a lab that attaches a process's namespace or a
 * container, a copy naming a stand-in started for each in the sandbox (`unshare --net sleep`).
 */
export async function prepareLab(sb: Sandbox, name: string): Promise<string> {
  const file = join(TOPOLOGIES, name);
  let text = readFileSync(file, 'utf8');
  if (!PLACEHOLDER_PID.test(text) && !CONTAINER.test(text)) return file;
  while (PLACEHOLDER_PID.test(text)) text = text.replace(PLACEHOLDER_PID, `pid: ${await standIn(sb)}`);
  while (CONTAINER.test(text)) text = text.replace(CONTAINER, `pid: ${await standIn(sb)}`);
  const copy = join(mkdtempSync(join(tmpdir(), 'netlab-lab-')), name);
  writeFileSync(copy, text);
  return copy;
}
