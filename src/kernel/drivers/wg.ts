// `wg set`: one process per WireGuard interface (wg has no batch), run in its namespace. The keys
// are read as the command is made: the private key by its file, each peer's public key from its
// private one, so that keys apply made a moment before are the ones set.
import { DriverError } from '../../errors.js';
import { wgSetWords, type WireguardPeer } from '../../model/wireguard.js';
import { keyFile, publicKeyFor } from '../../state/wireguard-keys.js';
import { inNamespace } from '../runner.js';
import { commandsFor, eachChange } from './per-change.js';
import type { Driver } from './types.js';

export const wgDriver: Driver = {
  async run({ scope, changes }, ctx) {
    const recordDir = ctx.recordDir ?? '';
    return eachChange(changes, async (change) => {
      for (const cmd of commandsFor(change, 'wg')) {
        const publicKeys = new Map<WireguardPeer, string>();
        for (const peer of cmd.wireguard.peers) {
          const key = await publicKeyFor(recordDir, peer.key!, peer.peer!);
          if (key === undefined) throw new Error(`the key of ${peer.peer} (${keyFile(recordDir, peer.key!)}) is missing or is no key: apply makes it before the run, so another process took it away — run apply again`);
          publicKeys.set(peer, key);
        }
        const words = wgSetWords(cmd.wireguard, cmd.remove, { privateKeyFile: (key) => keyFile(recordDir, key), publicKey: (peer) => publicKeys.get(peer)! });
        const argv = inNamespace(scope.netns, ['wg', ...words]);
        ctx.log?.command(scope, `wg ${words.join(' ')}`);
        const result = await ctx.runner.run(argv);
        if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
      }
    });
  },
};
