// The kernel-feature probes against this machine's kernel: each either makes its object or fails
// for the one reason that counts, the kernel not knowing the kind, never for a mistake in the
// probe's own command line (a probe that cannot parse would call every kernel lacking). The full
// kernel lane shows the other half: under Debian's stock kernel its labs pass the same probes.
import { describe, expect, it } from 'vitest';
import { FEATURES, type FeatureId } from '../../src/model/features.js';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

/** What ip and tc say when the kernel has no such kind (the module is neither built in nor loadable). */
const KERNEL_LACKS = /Unknown device type|Specified qdisc kind is unknown|Operation not supported|Protocol not supported|not supported/;

describe('kernel feature probes', () => {
  for (const id of Object.keys(FEATURES) as FeatureId[]) {
    it(`${id}: succeeds, or fails only because the kernel lacks it`, async () => {
      const probe = await sb.run(['unshare', '--net', 'sh', '-c', FEATURES[id].probe]);
      if (probe.exitCode !== 0) expect(probe.stderr).toMatch(KERNEL_LACKS);
      else expect(probe.stderr).toBe('');
    });
  }

  it('macvlan and vxlan, which this kernel has, probe present', async () => {
    for (const id of ['macvlan', 'vxlan'] as const) expect((await sb.run(['unshare', '--net', 'sh', '-c', FEATURES[id].probe])).exitCode).toBe(0);
  });
});
