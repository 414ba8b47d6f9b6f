// The labs in topologies/, ready to apply inside a sandbox.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPOLOGIES, type Sandbox } from './sandbox.js';

export const LABS = readdirSync(TOPOLOGIES)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .sort();

/** A kind: attach lab in topologies/ may take the pid of its "container" from ${APP_PID}. */
const PID_VARIABLE = /\$\{APP_PID\}/;
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
 * How to apply a lab: the file, and the environment it needs. A lab that takes ${APP_PID} is
 * applied unedited, APP_PID naming a stand-in "container" started in the sandbox (`unshare --net
 * sleep`); a lab that names a container gets a copy naming a stand-in's pid instead.
 */
export async function prepareLab(sb: Sandbox, name: string): Promise<{ file: string; env: Record<string, string> }> {
  const file = join(TOPOLOGIES, name);
  let text = readFileSync(file, 'utf8');
  const env: Record<string, string> = PID_VARIABLE.test(text) ? { APP_PID: await standIn(sb) } : {};
  if (!CONTAINER.test(text)) return { file, env };
  while (CONTAINER.test(text)) text = text.replace(CONTAINER, `pid: ${await standIn(sb)}`);
  const copy = join(mkdtempSync(join(tmpdir(), 'netlab-lab-')), name);
  writeFileSync(copy, text);
  return { file: copy, env };
}
