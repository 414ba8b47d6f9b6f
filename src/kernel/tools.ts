// The programs netlab runs, checked before anything is read or changed, so that a missing one
// is one clear line naming its Debian package rather than a failure half way through.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { UserError } from '../errors.js';
import { isTooOld, iproute2Version, MIN_IPROUTE2 } from './hints.js';
import type { NodeToRead } from './read.js';
import type { Runner } from './runner.js';

export type Tool = 'ip' | 'bridge' | 'nsenter' | 'sysctl' | 'nft' | 'xargs' | 'wg';

const PACKAGE: Record<Tool, string> = { ip: 'iproute2', bridge: 'iproute2', nsenter: 'util-linux', sysctl: 'procps', nft: 'nftables', xargs: 'findutils', wg: 'wireguard-tools' };

async function onPath(tool: string, path: string): Promise<boolean> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const found = await access(join(dir, tool), constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return true;
  }
  return false;
}

/** One clear line when iproute2 is older than the JSON and batch features netlab reads with. */
export async function requireIproute2(runner: Runner): Promise<void> {
  const result = await runner.run(['ip', '-V']);
  const version = iproute2Version(`${result.stdout}${result.stderr}`);
  if (version && isTooOld(version)) {
    throw new UserError(`iproute2 ${version.join('.')} is too old: netlab needs ${MIN_IPROUTE2.join('.')} or newer (apt-get install -y iproute2 from a newer release) — nothing was changed`);
  }
}

/**
 * The programs a read of these nodes and a run on them use. `linkLocal`: the lab makes links with
 * link-local IPv6, whose duplicate address detection is turned off by sysctl (resources/dad.ts).
 */
export function toolsFor(targets: readonly NodeToRead[], options: { linkLocal: boolean }): Tool[] {
  // xargs starts the per-namespace runs (kernel/fanout.ts).
  const tools: Tool[] = ['ip', 'nsenter', 'xargs'];
  if (options.linkLocal || targets.some((t) => t.sysctlKeys.length > 0)) tools.push('sysctl');
  if (targets.some((t) => t.nftTable)) tools.push('nft');
  if (targets.some((t) => t.bridgeReads?.length)) tools.push('bridge');
  if (targets.some((t) => t.wireguard)) tools.push('wg');
  return tools;
}

export async function requireTools(tools: Iterable<Tool>, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Promise<void> {
  const missing: Tool[] = [];
  for (const tool of new Set(tools)) if (!(await onPath(tool, path))) missing.push(tool);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((t) => PACKAGE[t]))].join(' ');
  throw new UserError(`${missing.join(', ')} not found on PATH — install with: apt-get install -y ${packages} (nothing was changed)`);
}

/** A kernel booted with ipv6.disable=1 has no IPv6 to configure: link-local settings are left out. */
export async function kernelHasIpv6(): Promise<boolean> {
  return access('/proc/sys/net/ipv6/conf').then(
    () => true,
    () => false,
  );
}
