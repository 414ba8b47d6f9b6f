// Sysctls: only per-namespace (net.*) names, and values the kernel can take.
import type { Path } from '../problem.js';
import { nodeEntries, report, type Ctx } from './context.js';

const SYSCTL_NAME = /^net(\.[A-Za-z0-9_/-]+)+$/;

export function checkSysctls(ctx: Ctx): void {
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const [key, value] of Object.entries(node.sysctls ?? {})) {
      const path = ['nodes', name, 'sysctls', key];
      if (!key.startsWith('net.')) {
        report(
          ctx,
          path,
          `sysctl ${key} is not per network namespace`,
          "only net.* sysctls are: netlab sets them inside the node's namespace, and any other would change the whole machine",
          'key',
        );
      } else if (!SYSCTL_NAME.test(key)) {
        report(
          ctx,
          path,
          `sysctl name ${JSON.stringify(key)} is not valid`,
          "write a dotted name such as net.ipv4.ip_forward; write a '.' inside an interface name as '/' (net.ipv4.conf.eth0/1.forwarding)",
          'key',
        );
      }
      checkSysctlValue(ctx, key, value, path);
    }
  }
}

function checkSysctlValue(ctx: Ctx, key: string, value: string | number | boolean, path: Path): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    report(ctx, path, `sysctl ${key} has value ${value}`, 'use a finite number, e.g. 1');
  } else if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    // 1.5 or 1e308 would be written as "1.5" or "1e+308", which no sysctl takes.
    report(ctx, path, `sysctl ${key} has value ${value}, not a whole number`, 'use a whole number, e.g. 1, or quote a value the kernel reads as text');
  } else if (typeof value === 'string' && /[\u0000-\u001f\u007f]/.test(value)) {
    report(ctx, path, `the value of sysctl ${key} contains a control character`, 'write it on one line, numbers separated by spaces');
  } else if (typeof value === 'string' && value.trim() === '') {
    report(ctx, path, `the value of sysctl ${key} is empty`, 'give a value, e.g. 1');
  }
}
