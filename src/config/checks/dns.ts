// A node's resolver settings: nameservers, search domains, options.
import { parseIp } from '../../model/ip.js';
import { nodeEntries, report, type Ctx } from './context.js';

const HOSTNAME = /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function checkDns(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    const base = ['nodes', name, 'dns'];
    (node.dns?.nameservers ?? []).forEach((text, i) => {
      if (!parseIp(text)) {
        report(
          ctx,
          [...base, 'nameservers', i],
          `nameserver ${JSON.stringify(text)} is not an IP address`,
          'e.g. 198.51.100.1',
        );
      }
    });
    (node.dns?.search ?? []).forEach((text, i) => {
      if (!HOSTNAME.test(text)) {
        report(
          ctx,
          [...base, 'search', i],
          `search domain ${JSON.stringify(text)} is not a domain name`,
          "use dot-separated labels of letters, digits and '-', e.g. lab.test",
        );
      }
    });
    (node.dns?.options ?? []).forEach((text, i) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/.test(text)) {
        report(
          ctx,
          [...base, 'options', i],
          `resolver option ${JSON.stringify(text)} is not one word`,
          'write one option per item, e.g. ndots:2 or edns0',
        );
      }
    });
  }
}
