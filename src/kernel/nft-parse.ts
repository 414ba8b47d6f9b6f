// What `nft -j list table inet netlab-<lab>` prints, turned into the model. Pure.
import { createHash } from 'node:crypto';
import { labFromMark } from '../model/names.js';
import type { NftChain, NftHook, NftTable } from '../model/types.js';

interface NftJsonChain {
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
}

interface NftJsonRule {
  chain: string;
  handle: number;
  comment?: string;
  expr: unknown[];
}

type NftJsonObject = { table?: { comment?: string }; chain?: NftJsonChain; rule?: NftJsonRule };

/** The kernel's expressions, hashed: the same rule reads back the same until someone edits it. */
export function ruleFingerprint(expr: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(expr)).digest('hex').slice(0, 16);
}

export function parseNftTable(json: string): NftTable {
  const objects = (JSON.parse(json) as { nftables?: NftJsonObject[] }).nftables ?? [];
  const chains = new Map<string, NftChain>();
  for (const { chain } of objects) {
    if (!chain) continue;
    chains.set(chain.name, {
      name: chain.name,
      type: chain.type === 'nat' ? 'nat' : 'filter',
      hook: (chain.hook ?? 'input') as NftHook,
      priority: chain.prio ?? 0,
      policy: chain.policy === 'drop' ? 'drop' : 'accept',
      rules: [],
    });
  }
  for (const { rule } of objects) {
    if (!rule) continue;
    chains.get(rule.chain)?.rules.push({ id: rule.comment ?? '', handle: rule.handle, fingerprint: ruleFingerprint(rule.expr) });
  }
  const table: NftTable = { chains: [...chains.values()] };
  const owner = labFromMark(objects.find((o) => o.table)?.table?.comment);
  if (owner) table.owner = owner;
  return table;
}

/**
 * The table's comment from `nft list table` (text). Some nft versions (1.0.6) leave a table's
 * comment out of their JSON; the text has it on the line right under `table … {`.
 */
export function tableCommentFromText(text: string): string | undefined {
  const match = /^table [^\n]*\{[^\n]*\n\s*comment "((?:[^"\\]|\\.)*)"/m.exec(text);
  return match?.[1];
}

/** nft's answer when the table does not exist. */
export function isNoSuchTable(stderr: string): boolean {
  return /No such file or directory/.test(stderr);
}
