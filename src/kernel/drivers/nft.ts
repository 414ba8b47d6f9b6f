// `nft -f -`: one transaction per namespace, the scripts of all its changes applied all or
// nothing, so a failure fails every change of the batch.
import { DriverError } from '../../errors.js';
import { inNamespace } from '../runner.js';
import { commandsFor } from './per-change.js';
import type { Driver } from './types.js';

export const nftDriver: Driver = {
  async run({ scope, changes }, ctx) {
    const script = changes
      .flatMap((c) => commandsFor(c, 'nft'))
      .map((c) => c.script)
      .join('');
    const argv = inNamespace(scope.netns, ['nft', '-f', '-']);
    ctx.log?.command({ tool: 'nft', netns: scope.netns }, `nft -f - <<'EOF'\n${script}EOF`);
    const result = await ctx.runner.run(argv, script);
    if (result.exitCode === 0) return { done: changes, failed: [] };
    const error = new DriverError(argv, result.exitCode, result.stderr, script);
    return { done: [], failed: changes.map((change) => ({ change, error })) };
  },
};
