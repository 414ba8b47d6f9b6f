// The lab's nftables table in a node (NAT and firewall): compared rule by rule, rewritten whole.
import { nftReplaceScript, nftTableName } from '../model/nft.js';
import type { NftChain, NftTable } from '../model/types.js';
import type { Action, ChangeBase, NodeDiff, NodeResource } from './resource.js';

/** One line under an nftables change in the plan: the table is rewritten whole, atomically. */
export interface NftDetail {
  action: Action;
  text: string;
  reason: string;
}

export type NftablesChange = ChangeBase & { kind: 'nftables'; lab: string; table?: NftTable; details: NftDetail[] };

function diffChain(want: NftChain | undefined, have: NftChain | undefined, fingerprints: Readonly<Record<string, string>>): NftDetail[] {
  const name = (want ?? have)!.name;
  if (!want) return [{ action: 'delete', text: `chain ${name}`, reason: 'not in the file' }];
  const details: NftDetail[] = [];
  if (!have) details.push({ action: 'create', text: `chain ${name} (${want.hook}, policy ${want.policy})`, reason: 'chain missing' });
  else if (have.policy !== want.policy) details.push({ action: 'update', text: `chain ${name} policy ${want.policy}`, reason: `policy is ${have.policy}` });
  else if (have.type !== want.type || have.hook !== want.hook || have.priority !== want.priority) {
    details.push({ action: 'update', text: `chain ${name}`, reason: `is ${have.type} ${have.hook} priority ${have.priority}` });
  }
  const haveRules = have?.rules ?? [];
  const haveIds = new Set(haveRules.map((r) => r.id));
  const wantIds = new Set(want.rules.map((r) => r.id));
  for (const rule of want.rules) {
    const current = haveRules.find((r) => r.id === rule.id);
    if (!current) details.push({ action: 'create', text: `rule in ${name}: ${rule.text}`, reason: 'rule missing' });
    else if (fingerprints[rule.id] !== undefined && fingerprints[rule.id] !== current.fingerprint) {
      details.push({ action: 'update', text: `rule in ${name}: ${rule.text}`, reason: 'rule changed by hand' });
    }
  }
  for (const rule of haveRules) {
    if (!wantIds.has(rule.id)) details.push({ action: 'delete', text: `rule in ${name} (handle ${rule.handle})`, reason: rule.id.startsWith('netlab:') ? 'not in the file' : 'not the lab\'s rule' });
  }
  const kept = haveRules.filter((r) => wantIds.has(r.id)).map((r) => r.id);
  const order = want.rules.filter((r) => haveIds.has(r.id)).map((r) => r.id);
  if (details.length === 0 && kept.join() !== order.join()) details.push({ action: 'update', text: `chain ${name}`, reason: 'rules out of order' });
  return details;
}

export const nftablesResource: NodeResource<NftablesChange> = {
  kind: 'nftables',
  plural: 'nftables table (NAT, firewall)',
  id: (c) => `nftables/${c.node}`,
  scope: (c) => ({ tool: 'nft', netns: c.netns }),
  commands: (c) => [{ tool: 'nft', script: nftReplaceScript(c.lab, c.table) }],
  summary: (c) => `nftables table inet ${nftTableName(c.lab)} on ${c.node}`,
  details: (c) => c.details,

  diff(n: NodeDiff) {
    const wantTable = n.want.nft;
    const haveTable = n.current.nft;
    if (!wantTable && !haveTable) return;
    const names = [...new Set([...(wantTable?.chains ?? []), ...(haveTable?.chains ?? [])].map((c) => c.name))];
    const details = names.flatMap((name) =>
      diffChain(
        wantTable?.chains.find((c) => c.name === name),
        haveTable?.chains.find((c) => c.name === name),
        n.facts.nftFingerprints,
      ),
    );
    if (details.length === 0) return;
    const action = !haveTable ? 'create' : !wantTable ? 'delete' : 'update';
    const reason = action === 'create' ? 'table missing' : action === 'delete' ? 'nat and firewall are not in the file' : `${details.length} difference(s)`;
    n.emit({ node: n.current.node, netns: n.current.netns, kind: 'nftables', action, lab: n.lab, table: wantTable, details, reason });
  },
};
