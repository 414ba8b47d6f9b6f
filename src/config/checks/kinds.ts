// Node kinds: one host node at most, and pid/path only (and exactly one of them) for attach.
import { kindOf, lineOf, nodeEntries, report, type Ctx } from './context.js';

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
    for (const key of ['pid', 'path'] as const) {
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
    if (kind === 'attach' && node.pid === undefined && node.path === undefined) {
      report(ctx, ['nodes', name, 'kind'], `node ${name} is kind: attach but names no namespace`, 'add pid: PID or path: /run/netns/NAME');
    }
    if (kind === 'attach' && node.pid !== undefined && node.path !== undefined) {
      report(ctx, ['nodes', name, 'path'], `node ${name} has both pid and path`, 'give one of them', 'key');
    }
  }
}
