// Static neighbour entries: an interface the node has, an IP address without a length, a MAC,
// and no entry declared twice.
import { parseIp } from '../../model/ip.js';
import { kindOf } from '../../model/spec.js';
import type { Path } from '../problem.js';
import { didYouMean } from '../text.js';
import { deviceList, devicesOf, lineOf, nodeEntries, report, type Ctx } from './context.js';
import { checkMac } from './interfaces.js';

export function checkNeighbors(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const devices = devicesOf(ctx, name, node);
    const declared = new Map<string, Path>();
    (node.neighbors ?? []).forEach((entry, i) => {
      const path = ['nodes', name, 'neighbors', i];
      // In the root namespace or an attached one the interface may be the machine's: not known here.
      if (kindOf(node) === 'netns' && !devices.has(entry.dev)) {
        report(
          ctx,
          [...path, 'dev'],
          `dev ${entry.dev} is not an interface or bridge of node ${name} (it has: ${deviceList(devices)})`,
          `name one of them, or add a link that creates ${name}:${entry.dev}${didYouMean(entry.dev, [...devices])}`,
        );
      }
      checkMac(ctx, entry.mac, [...path, 'mac']);
      const ip = parseIp(entry.address);
      if (!ip) {
        const bare = entry.address.split('/')[0]!;
        const hint = bare !== entry.address && parseIp(bare) ? `write the address alone: address: ${bare}` : 'write an IPv4 or IPv6 address, e.g. address: 192.0.2.2';
        report(ctx, [...path, 'address'], `address ${JSON.stringify(entry.address)} is not an IP address`, hint);
        return;
      }
      const key = `${entry.dev} ${ip.text}`;
      const first = declared.get(key);
      if (first) {
        report(ctx, [...path, 'address'], `neighbour ${ip.text} on ${entry.dev} is declared twice in node ${name} (first at line ${lineOf(ctx, first)})`, 'remove one');
      } else {
        declared.set(key, [...path, 'address']);
      }
    });
  }
}
