// The kernel's answers a trace asks for, from inside each node's namespace (nsenter). Each
// node's table is read once per trace; routes and sysctls every time they are asked for, as the
// walk asks each once per hop.
import { isNoSuchTable } from '../kernel/nft-parse.js';
import { inNamespace, type Runner } from '../kernel/runner.js';
import { nftTableName } from '../model/nft.js';
import type { LabState } from '../model/types.js';
import { parseTableJson, type ParsedTable } from './nft-eval.js';
import type { TraceKernel } from './walk.js';

/** Whether `ss -H -ltn` / `-lun` output shows a socket bound to the port. */
export function listensOn(ssOutput: string, port: number): boolean {
  return ssOutput.split('\n').some((line) => {
    const local = line.trim().split(/\s+/)[3];
    return local !== undefined && local.endsWith(`:${port}`);
  });
}

export function kernelOf(lab: LabState, runner: Runner, log?: (netns: string | null, argv: readonly string[]) => void): TraceKernel {
  const tables = new Map<string, Promise<ParsedTable | undefined>>();
  const netnsOf = (node: string): string | null => {
    const state = lab.nodes.get(node);
    if (!state) throw new Error(`trace: no node ${node} in lab ${lab.lab}`);
    return state.netns;
  };
  const run = (node: string, argv: string[]) => {
    const netns = netnsOf(node);
    const full = inNamespace(netns, argv);
    log?.(netns, full);
    return runner.run(full);
  };
  return {
    routeGet: (node, family, dst, from, iif) => run(node, ['ip', '-j', `-${family}`, 'route', 'get', dst, ...(from ? ['from', from] : []), ...(iif ? ['iif', iif] : [])]),
    async sysctls(node, keys) {
      // One key at a time: sysctl stops at the first key the kernel lacks.
      const values = new Map<string, string>();
      for (const key of keys) {
        const r = await run(node, ['sysctl', '-n', key]);
        if (r.exitCode === 0) values.set(key, r.stdout.trim());
      }
      return values;
    },
    async neighbour(node, family, dev, address) {
      const r = await run(node, ['ip', '-j', `-${family}`, 'neigh', 'show', 'to', address, 'dev', dev]);
      if (r.exitCode !== 0) return undefined;
      const entry = (JSON.parse(r.stdout || '[]') as Array<{ state?: string[] }>)[0];
      return entry?.state?.join(',');
    },
    table(node) {
      let table = tables.get(node);
      if (!table) {
        table = run(node, ['nft', '-j', 'list', 'table', 'inet', nftTableName(lab.lab)]).then((r) => {
          if (r.exitCode === 0) return parseTableJson(r.stdout);
          if (isNoSuchTable(r.stderr)) return undefined;
          throw new Error(`nft list table in ${node} failed: ${r.stderr.trim()}`);
        });
        tables.set(node, table);
      }
      return table;
    },
    async listening(node, proto, port) {
      const r = await run(node, ['ss', '-H', proto === 'tcp' ? '-ltn' : '-lun']);
      return listensOn(r.stdout, port);
    },
  };
}
