// A node's WireGuard interfaces, read with `wg show all dump` only where the file has one and
// `ip -j` shows one: a lab without WireGuard spends no process on them.
import { DriverError } from '../errors.js';
import { parseWgDump, type WireguardState } from '../model/wireguard.js';
import type { IpLinkJson } from './parse.js';
import type { Runner } from './runner.js';

export function hasWireguard(links: readonly IpLinkJson[]): boolean {
  return links.some((l) => l.linkinfo?.info_kind === 'wireguard');
}

export async function readWireguard(inside: (argv: string[]) => string[], runner: Runner): Promise<Map<string, WireguardState>> {
  const argv = inside(['wg', 'show', 'all', 'dump']);
  const result = await runner.run(argv);
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  return parseWgDump(result.stdout);
}
