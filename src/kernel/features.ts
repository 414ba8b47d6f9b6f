// Asks the kernel for the features a lab needs, not its version number: each probe runs in a
// throwaway network namespace (`unshare --net`) that goes with the probe's process. plan and
// apply refuse before reading or changing anything when one is missing, naming the object, its
// key and what the kernel lacks.
import { UserError } from '../errors.js';
import { FEATURES, type FeatureId, type FeatureNeed } from '../model/features.js';
import type { Runner } from './runner.js';

/** The refusal's lines, one per need whose feature the kernel lacks, in the file's order. */
export function refusals(needs: readonly FeatureNeed[], missing: ReadonlySet<FeatureId>): string[] {
  return needs.filter((n) => missing.has(n.feature)).map((n) => `${n.object}: ${n.key} needs ${FEATURES[n.feature].needs}, which this kernel lacks`);
}

/** The features among `wanted` this kernel lacks, each probed once, all at once. */
export async function missingFeatures(runner: Runner, wanted: Iterable<FeatureId>): Promise<Set<FeatureId>> {
  const ids = [...new Set(wanted)];
  const results = await Promise.all(ids.map((id) => runner.run(['unshare', '--net', 'sh', '-c', `${FEATURES[id].probe} 2>/dev/null`])));
  return new Set(ids.filter((_, i) => results[i]!.exitCode !== 0));
}

/** Refuses, before anything is read or changed, a lab whose keys need what this kernel lacks. */
export async function requireFeatures(runner: Runner, needs: readonly FeatureNeed[]): Promise<void> {
  if (needs.length === 0) return;
  const lines = refusals(needs, await missingFeatures(runner, needs.map((n) => n.feature)));
  if (lines.length > 0) throw new UserError(`${lines.join('\n')}\n(nothing was changed)`);
}
