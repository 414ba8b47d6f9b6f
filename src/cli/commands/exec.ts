// netlab exec NODE -- CMD...: a command inside a node's namespace, as `ip netns exec` runs it
// (the node's /etc/netns/<ns>/resolv.conf over /etc/resolv.conf), stdio and exit code passed through.
import { execa } from 'execa';
import { stateDir } from '../../kernel/paths.js';
import { findNode } from '../../lab/locate.js';
import { requireRoot } from '../context.js';

export async function execCommand(node: string, argv: string[], options: { lab?: string }): Promise<number> {
  requireRoot();
  const { recorded } = await findNode(stateDir(), node, options.lab);
  const full = recorded.netns === null ? argv : ['ip', 'netns', 'exec', recorded.netns, ...argv];
  const result = await execa(full[0]!, full.slice(1), { stdio: 'inherit', reject: false });
  if (result.exitCode !== undefined) return result.exitCode;
  // Killed by a signal: the shell's convention, 128 + its number.
  return result.signal ? 128 + (signalNumber(result.signal) ?? 0) : 1;
}

function signalNumber(name: string): number | undefined {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return table[name];
}
