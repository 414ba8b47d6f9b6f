// Names of nodes, and of the namespaces made from the prefix and the node name.
import { namespaceName, NODE_NAME_PATTERN } from '../../model/names.js';
import { kindOf } from '../../model/spec.js';
import { nodeEntries, report, type Ctx } from './context.js';

export function checkNames(ctx: Ctx): void {
  const prefix = ctx.spec.prefix ?? '';
  const prefixOk = prefix === '' || /^[A-Za-z0-9]/.test(prefix);
  if (!prefixOk) {
    report(
      ctx,
      ['prefix'],
      `prefix ${JSON.stringify(prefix)} would start every namespace name with ${JSON.stringify(prefix[0])}`,
      'a namespace name must start with a letter or digit; start the prefix with one',
    );
  }
  for (const [name, node] of nodeEntries(ctx.spec)) {
    if (!NODE_NAME_PATTERN.test(name)) {
      report(
        ctx,
        ['nodes', name],
        `node name ${JSON.stringify(name)} is not allowed`,
        'a node name becomes a namespace and file name: use 1-63 letters, digits, "_", "." or "-", starting with a letter or digit',
        'key',
      );
      continue;
    }
    const netns = namespaceName(prefix, name);
    if (prefixOk && kindOf(node) !== 'host' && !NODE_NAME_PATTERN.test(netns)) {
      report(
        ctx,
        ['nodes', name],
        `namespace name ${JSON.stringify(netns)} (prefix + node name) is ${netns.length} characters long`,
        'the limit is 63; shorten the prefix or the node name',
        'key',
      );
    }
  }
}
