// netlab status [NAME] [--node NODE...]: per applied lab, its nodes, interfaces, peers, routes, rules, neighbours and run: commands,
// and what differs from the file it was applied from (when that file is still there and valid).
import { loadLab } from '../../config/load.js';
import { planLab, readAppliedLab, type EngineDeps } from '../../engine.js';
import { UserError } from '../../errors.js';
import { labStatus, renderStatus } from '../../lab/status.js';
import { planToJson, renderPlan } from '../../plan/render.js';
import { listRecords, type LabRecord } from '../../state/record.js';
import { engineDeps, loadOptions, requireRoot, type CommonOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';

/** A lab whose record is there but none of whose nodes are: it was taken down by other hands. */
export const EXIT_LAB_GONE = 3;

async function drift(record: LabRecord, options: CommonOptions, deps: EngineDeps): Promise<{ text: string; json: unknown }> {
  if (!record.file) return { text: '  (no file recorded: differences unknown)\n', json: null };
  const loaded = await loadLab(record.file, loadOptions(options));
  if (!loaded.spec && loaded.diagnostics.some((d) => /^variable \w+ is not defined$/.test(d.message))) {
    const vars = (loaded.variables ?? []).map((v) => `--var ${v}=...`).join(' ');
    return { text: `  (${record.file} needs variables: run netlab status ${vars} ${record.lab} for the differences)\n`, json: null };
  }
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

export async function statusCommand(name: string | undefined, options: CommonOptions & { json?: boolean; output?: string }, out: Output): Promise<number> {
  requireRoot();
  const format = outputFormat(options);
  const deps = engineDeps(options, out);
  const records = (await listRecords(deps.stateDir)).filter((r) => name === undefined || r.lab === name);
  if (name && records.length === 0) throw new UserError(`no applied lab ${name} — see netlab ls`);
  const selected = deps.nodes ? records.filter((r) => deps.nodes!.some((n) => n in r.nodes)) : records;
  if (deps.nodes && selected.length === 0) throw new UserError(`--node ${deps.nodes.join(', ')}: no applied lab${name ? ` ${name}` : ''} has such a node — see netlab status`);
  const labs = [];
  let gone = false;
  for (const record of selected) {
    // --node: the lab's nodes among those named, and the differences in them alone.
    const only = deps.nodes?.filter((n) => n in record.nodes);
    const state = await readAppliedLab(record.lab, deps);
    const nodes = state ? labStatus(state).filter((n) => !only || only.includes(n.node)) : [];
    const missing = nodes.filter((n) => !n.exists).map((n) => n.node);
    if (nodes.length > 0 && missing.length === nodes.length) gone = true;
    const difference = await drift(record, options, { ...deps, nodes: only });
    if (format !== 'text') labs.push({ lab: record.lab, file: record.file ?? null, missing, nodes, plan: difference.json });
    else {
      out.out(`${renderStatus(record.lab, nodes)}${difference.text}`);
      if (missing.length > 0 && missing.length === nodes.length) out.err(`lab ${record.lab}: none of its nodes exist any more (missing: ${missing.join(', ')}); netlab apply makes them again, netlab destroy ${record.lab} forgets them`);
    }
  }
  if (format !== 'text') printDocument(out, format, { labs });
  else if (selected.length === 0) out.out('No labs applied on this machine.');
  return gone ? EXIT_LAB_GONE : 0;
}
