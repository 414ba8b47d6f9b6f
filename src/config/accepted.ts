// The part of a lab file the schema accepts: the data with every rejected value taken out, so the
// semantic checks can run on the rest and one run reports every error, not the schema's first.
import { deviceKey } from './checks/context.js';
import type { Path } from './problem.js';

/** Rounds of taking out and checking again before giving up (a value may fail at several depths). */
const MAX_ROUNDS = 5;

export interface AcceptedPart {
  data: Record<string, unknown>;
  /** A path in `data` → the same value's path in the file (list items taken out shift the rest). */
  original: (path: Path) => Path;
  /**
   * node\0ifname of every "node:ifname" in the values taken out (a link, or a misspelt links:): no
   * check should say that no link makes them.
   */
  devicesOfRemovedLinks: Set<string>;
  /**
   * Whether a problem at this path (of the file) is about a mapping that lost a key: a node whose
   * bad `container:` was taken out must not be told it names no namespace.
   */
  lostKey: (path: Path) => boolean;
}

type Json = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Json {
  return value !== null && typeof value === 'object';
}

/** Only the shallowest: taking out a value takes out what is inside it. */
function outermost(paths: readonly Path[]): Path[] {
  const key = (p: Path) => JSON.stringify(p);
  const unique = [...new Map(paths.map((p) => [key(p), p])).values()];
  return unique.filter((p) => !unique.some((q) => q.length < p.length && q.every((seg, i) => seg === p[i])));
}

/** "a:eth0" strings anywhere inside a link, as its ends are written. */
function endpointsIn(value: unknown, found: Set<string>, seen = new WeakSet<object>()): void {
  if (typeof value === 'string') {
    const match = /^([^:\s]+):(\S+)$/.exec(value);
    if (match) found.add(deviceKey(match[1]!, match[2]!));
  } else if (isContainer(value) && !seen.has(value)) {
    // Aliases may make a cycle (&n {a: *n}).
    seen.add(value);
    Object.values(value).forEach((v) => endpointsIn(v, found, seen));
  }
}

/**
 * The data without the rejected values, or undefined when what is left is not a lab (the top level
 * or its nodes are rejected). `rejected` says what the schema rejects in a given data. Pure.
 */
export function acceptedPart(data: unknown, rejected: (data: unknown) => Path[]): AcceptedPart | undefined {
  if (!isContainer(data) || Array.isArray(data)) return undefined;
  const copy = structuredClone(data) as Record<string, unknown>;
  // For each list that lost items, the original index of each item left, by the list's path.
  const indexes = new Map<string, number[]>();
  const devicesOfRemovedLinks = new Set<string>();
  const shrunk = new Set<string>();
  const original = (path: Path): Path => {
    const out: Array<string | number> = [];
    for (const seg of path) {
      const kept = typeof seg === 'number' ? indexes.get(JSON.stringify(out)) : undefined;
      out.push(kept && typeof seg === 'number' ? (kept[seg] ?? seg) : seg);
    }
    return out;
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const paths = outermost(rejected(copy));
    if (paths.length === 0) return { data: copy, original, devicesOfRemovedLinks, lostKey: (path) => shrunk.has(JSON.stringify(path.slice(0, -1))) };
    // Later list items first, so earlier indexes still point where they did.
    for (const path of [...paths].sort((a, b) => comparePaths(b, a))) {
      if (typeof path[path.length - 1] === 'string') shrunk.add(JSON.stringify(original(path.slice(0, -1))));
      if (!takeOut(copy, path, indexes, original, devicesOfRemovedLinks)) return undefined;
    }
  }
  return undefined;
}

function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    return typeof a[i] === 'number' && typeof b[i] === 'number' ? (a[i] as number) - (b[i] as number) : String(a[i]).localeCompare(String(b[i]));
  }
  return a.length - b.length;
}

function takeOut(
  root: Record<string, unknown>,
  path: Path,
  indexes: Map<string, number[]>,
  original: (path: Path) => Path,
  devicesOfRemovedLinks: Set<string>,
): boolean {
  if (path.length === 0) return false;
  let parent: unknown = root;
  for (const seg of path.slice(0, -1)) parent = isContainer(parent) ? (parent as Record<string | number, unknown>)[seg] : undefined;
  const last = path[path.length - 1]!;
  if (!isContainer(parent)) return true;
  endpointsIn((parent as Record<string | number, unknown>)[last], devicesOfRemovedLinks);
  if (path.length === 1) {
    // The lab's name only names it: a stand-in lets the other checks run. Without nodes, nothing can.
    if (path[0] === 'name') root.name = 'lab';
    else if (path[0] === 'nodes') return false;
    else delete root[path[0] as string];
    return true;
  }
  // A node stays, empty: links and routes that name it should not fail for its sake.
  if (path.length === 2 && path[0] === 'nodes') (parent as Record<string, unknown>)[last] = {};
  else if (Array.isArray(parent) && typeof last === 'number') {
    const listPath = path.slice(0, -1);
    const key = JSON.stringify(original(listPath));
    const kept = indexes.get(key) ?? parent.map((_, i) => i);
    kept.splice(last, 1);
    indexes.set(key, kept);
    parent.splice(last, 1);
  } else delete (parent as Record<string | number, unknown>)[last];
  return true;
}
