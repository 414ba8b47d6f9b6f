// The labs in topologies/, ready to apply inside a sandbox.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FEATURES, type FeatureId } from '../../src/model/features.js';
import { TOPOLOGIES, type Sandbox } from './sandbox.js';

const ALL_LABS = readdirSync(TOPOLOGIES)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .sort();

/**
 * A lab's `x-kernel:` (netlab ignores it): the kernel features (model/features.ts) it needs. Such
 * a lab runs only where the kernel has them, as in the full-kernel lane (test/kernel-vm/).
 */
export function kernelFeaturesOf(name: string): FeatureId[] {
  const spec = parseYaml(readFileSync(join(TOPOLOGIES, name), 'utf8')) as Record<string, unknown>;
  const wanted = spec['x-kernel'];
  return Array.isArray(wanted) ? (wanted as FeatureId[]) : [];
}

/** Asked of the kernel as plan asks (kernel/features.ts), in a throwaway namespace, once per feature. */
function lacking(features: readonly FeatureId[], known: Map<FeatureId, boolean>): FeatureId[] {
  for (const f of features) if (!known.has(f)) known.set(f, spawnSync('unshare', ['--net', 'sh', '-c', `${FEATURES[f].probe} 2>/dev/null`]).status !== 0);
  return features.filter((f) => known.get(f));
}

const probed = new Map<FeatureId, boolean>();
const needs = ALL_LABS.map((name) => ({ name, missing: lacking(kernelFeaturesOf(name), probed) }));

/** The labs this kernel can run. */
export const LABS = needs.filter((l) => l.missing.length === 0).map((l) => l.name);

/** The labs that need what this kernel lacks, each with what it lacks: skipped here, run in the VM lane. */
export const LABS_NOT_HERE = needs.filter((l) => l.missing.length > 0);

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
