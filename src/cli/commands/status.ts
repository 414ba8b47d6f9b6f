// netlab status [NAME] [--node NODE...]: per applied lab, its nodes, interfaces, peers and routes,
// and what differs from the file it was applied from (when that file is still there and valid).
import { loadLab } from '../../config/load.js';
import { planLab, readAppliedLab, type EngineDeps } from '../../engine.js';
import { UserError } from '../../errors.js';
import { labStatus, renderStatus } from '../../lab/status.js';
import { planToJson, renderPlan } from '../../plan/render.js';
import { listRecords, type LabRecord } from '../../state/record.js';
import { engineDeps, requireRoot, type CommonOptions } from '../context.js';
import type { Output } from '../output.js';

async function drift(record: LabRecord, deps: EngineDeps): Promise<{ text: string; json: unknown }> {
  if (!record.file) return { text: '  (no file recorded: differences unknown)\n', json: null };
  const loaded = await loadLab(record.file);
  if (!loaded.spec || loaded.spec.name !== record.lab) {
    return { text: `  (${record.file} is gone, invalid or another lab now: differences unknown)\n`, json: null };
  }
  // A container: node whose container is gone has no pid to compare with; status still shows the rest.
  const planned = await planLab(loaded.spec, deps).catch((e: unknown) => (e instanceof UserError ? e : Promise.reject(e)));
  if (planned instanceof UserError) return { text: `  (differences unknown: ${planned.message.split('\n')[0]})\n`, json: null };
  const { plan } = planned;
  const text = plan.changes.length || plan.conflicts.length ? renderPlan(plan).replace(/^/gm, '  ') : `  matches ${record.file}\n`;
  return { text, json: planToJson(plan) };
}

export async function statusCommand(name: string | undefined, options: CommonOptions & { json?: boolean }, out: Output): Promise<number> {
  requireRoot();
  const deps = engineDeps(options, out);
  const records = (await listRecords(deps.stateDir)).filter((r) => name === undefined || r.lab === name);
  if (name && records.length === 0) throw new UserError(`no applied lab ${name} — see netlab ls`);
  const selected = deps.nodes ? records.filter((r) => deps.nodes!.some((n) => n in r.nodes)) : records;
  if (deps.nodes && selected.length === 0) throw new UserError(`--node ${deps.nodes.join(', ')}: no applied lab${name ? ` ${name}` : ''} has such a node — see netlab status`);
  const labs = [];
  for (const record of selected) {
    // --node: the lab's nodes among those named, and the differences in them alone.
    const only = deps.nodes?.filter((n) => n in record.nodes);
    const state = await readAppliedLab(record.lab, deps);
    const nodes = state ? labStatus(state).filter((n) => !only || only.includes(n.node)) : [];
    const difference = await drift(record, { ...deps, nodes: only });
    if (options.json) labs.push({ lab: record.lab, file: record.file, nodes, plan: difference.json });
    else out.out(`${renderStatus(record.lab, nodes)}${difference.text}`);
  }
  if (options.json) out.out(JSON.stringify(labs, null, 2));
  else if (selected.length === 0) out.out('No labs applied on this machine.');
  return 0;
}
