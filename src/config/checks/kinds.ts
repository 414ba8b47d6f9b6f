// Node kinds: one host node at most, and pid/path/container only (and exactly one of them) for attach.
import { kindOf } from '../../model/spec.js';
import { lineOf, nodeEntries, report, type Ctx } from './context.js';

/** The keys that name an attach node's namespace, one of which it gives. */
const SOURCES = ['pid', 'path', 'container'] as const;

export function checkKinds(ctx: Ctx): void {
  let firstHost: string | undefined;
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const kind = kindOf(node);
    if (kind === 'host') {
      if (firstHost === undefined) firstHost = name;
      else {
        report(
          ctx,
          ['nodes', name, 'kind'],
          `node ${name} is a second kind: host node (the first is ${firstHost}, line ${lineOf(ctx, ['nodes', firstHost], 'key')})`,
          'this machine has one root namespace: keep one host node',
        );
      }
    }
    for (const key of SOURCES) {
      if (node[key] !== undefined && kind !== 'attach') {
        report(
          ctx,
          ['nodes', name, key],
          `${key} is only for kind: attach (node ${name} is kind ${kind})`,
          `remove ${key}, or set kind: attach`,
          'key',
        );
      }
    }
    if (kind === 'host' && node.dns !== undefined) {
      report(
        ctx,
        ['nodes', name, 'dns'],
        `dns on node ${name}: a kind: host node is the machine itself, and its resolv.conf is the machine's`,
        'remove dns here; it is for the lab\'s own and attached namespaces',
        'key',
      );
    }
    const given = SOURCES.filter((key) => node[key] !== undefined);
    if (kind === 'attach' && given.length === 0) {
      report(ctx, ['nodes', name, 'kind'], `node ${name} is kind: attach but names no namespace`, 'add pid: PID, path: /run/netns/NAME or container: NAME');
    }
    if (kind === 'attach' && given.length > 1) {
      report(ctx, ['nodes', name, given[1]!], `node ${name} has both ${given[0]} and ${given[1]}`, 'give one of pid, path and container', 'key');
    }
  }
}
