// Reads namespaces that no lab file describes, for `netlab export`: the engine's own reader (one
// `ip -d -j -batch` per namespace, the sysctls export looks at, resolv.conf), plus the names of the
// namespaces each one's veth peers live in (`ip -j netns list-id`: a veth shows its peer's
// namespace only as an id that its own namespace assigned). Namespaces in parallel.
import pLimit from 'p-limit';
import { DriverError, UserError } from '../errors.js';
import type { NodeState } from '../model/types.js';
import { parseNamespaceIds } from './parse.js';
import { readNode } from './read.js';
import { inNamespace, type Runner } from './runner.js';

/** The sysctls export writes out when they differ from the kernel's default. */
export const EXPORTED_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '0',
  'net.ipv6.conf.all.forwarding': '0',
};

export interface NamespaceSnapshot {
  netns: string;
  state: NodeState;
  /** netns ids this namespace assigned → the names of those namespaces under /run/netns. */
  nsids: Map<number, string>;
}

export interface ExportReadDeps {
  runner: Runner;
  concurrency: number;
}

async function namespaceIds(netns: string, runner: Runner): Promise<Map<number, string>> {
  const argv = inNamespace(netns, ['ip', '-j', 'netns', 'list-id']);
  const result = await runner.run(argv);
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  return parseNamespaceIds(result.stdout);
}

export async function readNamespaces(names: readonly string[], deps: ExportReadDeps): Promise<NamespaceSnapshot[]> {
  const limit = pLimit(deps.concurrency);
  const keys = Object.keys(EXPORTED_SYSCTLS);
  // All links first: reading a veth is what makes its namespace assign an id to the peer's.
  const states = await Promise.all(names.map((netns) => limit(() => readNode({ node: netns, kind: 'netns', netns, sysctlKeys: keys }, deps.runner))));
  const missing = names.filter((_, i) => !states[i]!.exists);
  if (missing.length > 0) {
    throw new UserError(`no network namespace ${missing.join(', ')} (see \`ip netns list\`): export reads namespaces by their name under /run/netns`);
  }
  const ids = await Promise.all(names.map((netns) => limit(() => namespaceIds(netns, deps.runner))));
  return states.map((state, i) => ({ netns: names[i]!, state, nsids: ids[i]! }));
}
