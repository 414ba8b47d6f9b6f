// A node's root qdiscs, read with `tc -j qdisc show` only where the node's links show one that is
// not the kernel's default: a lab without impair: spends no process on them.
import { DriverError } from '../errors.js';
import { KERNEL_DEFAULT_QDISCS, parseQdisc, type QdiscState, type TcQdiscJson } from '../model/impair.js';
import type { IpLinkJson } from './parse.js';
import type { Runner } from './runner.js';

/** Whether any link's root qdisc, as `ip -j` names it, is one the kernel did not give by itself. */
export function hasOwnRootQdisc(links: readonly IpLinkJson[]): boolean {
  return links.some((l) => l.qdisc !== undefined && !KERNEL_DEFAULT_QDISCS.has(l.qdisc));
}

/** `tc -j qdisc show`'s answer → the root qdiscs that are not the kernel's defaults, by interface. */
export function parseQdiscs(stdout: string): Map<string, QdiscState> {
  const text = stdout.trim();
  const qdiscs = new Map<string, QdiscState>();
  for (const json of (text === '' ? [] : JSON.parse(text)) as TcQdiscJson[]) {
    const qdisc = parseQdisc(json);
    if (qdisc) qdiscs.set(qdisc.dev, qdisc);
  }
  return qdiscs;
}

export async function readQdiscs(inside: (argv: string[]) => string[], runner: Runner): Promise<Map<string, QdiscState>> {
  const argv = inside(['tc', '-j', 'qdisc', 'show']);
  const result = await runner.run(argv);
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  return parseQdiscs(result.stdout);
}
