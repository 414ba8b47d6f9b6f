// What the kernel itself proves is a lab's, for when its record is missing or not to be trusted:
// namespaces whose lo carries the lab's mark, links in the root namespace that carry it, and the
// lab's nftables table there when netlab's own comments show netlab made it. Also the ids the root
// namespace gives namespaces, which tell a namespace a run made from one made by hand.
import { readdir } from 'node:fs/promises';
import pLimit from 'p-limit';
import { labFromMark, ownerMark } from '../model/names.js';
import { nftTableName } from '../model/nft.js';
import { tableCommentFromText } from './nft-parse.js';
import { RUN_NETNS } from './paths.js';
import { inNamespace, type Runner } from './runner.js';

export interface MarkDeps {
  runner: Runner;
  concurrency: number;
}

export interface LabMarks {
  /** Namespaces under /run/netns whose lo's alias is the lab's mark. */
  namespaces: string[];
  /** Links in the root namespace whose alias is the lab's mark. */
  hostLinks: string[];
  /** The root namespace's `inet netlab-<lab>`: the lab's, someone else's, or none. */
  hostTable: 'lab' | 'unproven' | 'none';
}

interface LinkJson {
  ifname: string;
  ifalias?: string;
}

async function markedNamespaces(lab: string, deps: MarkDeps): Promise<string[]> {
  const names = await readdir(RUN_NETNS).catch(() => [] as string[]);
  const limit = pLimit(deps.concurrency);
  const marks = await Promise.all(
    names.map((netns) =>
      limit(async () => {
        const out = await deps.runner.run(inNamespace(netns, ['ip', '-j', 'link', 'show', 'dev', 'lo']));
        if (out.exitCode !== 0) return undefined;
        return labFromMark(parseLinks(out.stdout)[0]?.ifalias);
      }),
    ),
  );
  return names.filter((_, i) => marks[i] === lab).sort();
}

function parseLinks(stdout: string): LinkJson[] {
  try {
    const links = JSON.parse(stdout) as unknown;
    return Array.isArray(links) ? (links as LinkJson[]) : [];
  } catch {
    return [];
  }
}

async function markedHostLinks(lab: string, runner: Runner): Promise<string[]> {
  const out = await runner.run(['ip', '-j', 'link', 'show']);
  if (out.exitCode !== 0) return [];
  return parseLinks(out.stdout)
    .filter((l) => l.ifalias === ownerMark(lab))
    .map((l) => l.ifname)
    .sort();
}

interface NftJson {
  nftables?: Array<{ table?: { comment?: string }; rule?: { comment?: string } }>;
}

/**
 * A table of that name is the lab's only when netlab's marks are on it: the table's comment, or
 * rules that all carry netlab's comments. An empty table made by hand proves nothing.
 */
export function tableOwner(lab: string, stdout: string): 'lab' | 'unproven' {
  let objects: NftJson['nftables'] = [];
  try {
    objects = (JSON.parse(stdout) as NftJson).nftables ?? [];
  } catch {
    return 'unproven';
  }
  if (objects.some((o) => o.table?.comment === ownerMark(lab))) return 'lab';
  const rules = objects.flatMap((o) => (o.rule ? [o.rule] : []));
  return rules.length > 0 && rules.every((r) => labFromMark(r.comment) !== undefined) ? 'lab' : 'unproven';
}

async function hostTable(lab: string, runner: Runner): Promise<LabMarks['hostTable']> {
  const out = await runner.run(['nft', '-j', 'list', 'table', 'inet', nftTableName(lab)]).catch(() => undefined);
  if (!out || out.exitCode !== 0) return 'none';
  if (tableOwner(lab, out.stdout) === 'lab') return 'lab';
  // Some nft versions (1.0.6) leave the table's comment out of JSON; the text has it.
  const text = await runner.run(['nft', 'list', 'table', 'inet', nftTableName(lab)]).catch(() => undefined);
  return text?.exitCode === 0 && tableCommentFromText(text.stdout) === ownerMark(lab) ? 'lab' : 'unproven';
}

export async function readLabMarks(lab: string, deps: MarkDeps): Promise<LabMarks> {
  const [namespaces, hostLinks, table] = await Promise.all([markedNamespaces(lab, deps), markedHostLinks(lab, deps.runner), hostTable(lab, deps.runner)]);
  return { namespaces, hostLinks, hostTable: table };
}

/** name → the id the root namespace gives it (`ip netns set`), for the namespaces that have one. */
export async function namespaceIds(runner: Runner): Promise<Map<string, number>> {
  const out = await runner.run(['ip', '-j', 'netns', 'list']);
  const ids = new Map<string, number>();
  if (out.exitCode !== 0 || out.stdout.trim() === '') return ids;
  for (const entry of JSON.parse(out.stdout) as Array<{ name: string; id?: number }>) if (entry.id !== undefined) ids.set(entry.name, entry.id);
  return ids;
}

/**
 * Of these namespaces, each with the id a run gave it before making it, those the root namespace
 * still gives that id: the run's own, though it stopped before marking them. One made by hand
 * under the same name has no such id.
 */
export async function namespacesWithTheirIds(runner: Runner, expected: ReadonlyMap<string, number>): Promise<Set<string>> {
  if (expected.size === 0) return new Set();
  const ids = await namespaceIds(runner);
  return new Set([...expected].filter(([netns, id]) => ids.get(netns) === id).map(([netns]) => netns));
}
