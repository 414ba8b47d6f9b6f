import { describe, expect, it } from 'vitest';
import { missingFeatures, refusals, requireFeatures } from '../../src/kernel/features.js';
import { UserError } from '../../src/errors.js';
import { fakeRunner } from '../helpers/fake-runner.js';

const vlanNeed = { feature: 'vlan' as const, object: 'r1:eth0.10', key: 'kind vlan' };
const netemNeed = { feature: 'netem' as const, object: 'r1:eth0', key: 'impair delay' };

describe('kernel features', () => {
  it('names the object, its key and what the kernel lacks, one line each, for the missing features only', () => {
    expect(refusals([vlanNeed, netemNeed], new Set(['vlan']))).toEqual([
      'r1:eth0.10: kind vlan needs 802.1Q VLAN support (module 8021q, CONFIG_VLAN_8021Q), which this kernel lacks',
    ]);
  });

  it('probes each feature once, in a namespace of its own, and counts a failing probe as missing', async () => {
    const runner = fakeRunner((call) => (call.argv.at(-1)!.includes('netem') ? { exitCode: 2 } : undefined));
    const missing = await missingFeatures(runner, ['vlan', 'netem', 'vlan']);
    expect([...missing]).toEqual(['netem']);
    expect(runner.calls).toHaveLength(2);
    for (const call of runner.calls) expect(call.argv.slice(0, 4)).toEqual(['unshare', '--net', 'sh', '-c']);
  });

  it('refuses with every missing need at once, and asks nothing when the lab needs nothing', async () => {
    const none = fakeRunner();
    await requireFeatures(none, []);
    expect(none.calls).toEqual([]);
    const lacking = fakeRunner(() => ({ exitCode: 1 }));
    const refusal = requireFeatures(lacking, [vlanNeed, netemNeed]);
    await expect(refusal).rejects.toBeInstanceOf(UserError);
    await expect(refusal).rejects.toThrow(/r1:eth0\.10: kind vlan needs .*\nr1:eth0: impair delay needs the netem queueing discipline .*CONFIG_NET_SCH_NETEM/);
  });
});
