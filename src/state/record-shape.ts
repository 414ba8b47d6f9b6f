// Whether a parsed record.json is a lab record netlab could have written. Pure.
// The record's names reach `ip -batch` lines, file paths and sysctl writes, so they must have
// the shapes the lab file's validation allows, not just the right types.
import { IFNAME_PATTERN, LAB_NAME_PATTERN, NODE_NAME_PATTERN } from '../model/names.js';

/** A namespace name: a prefix and a node name, as the lab file allows them. */
const NETNS_PATTERN = /^[A-Za-z0-9_.-]{1,255}$/;
const SYSCTL_KEY_PATTERN = /^[A-Za-z0-9_.\/-]+$/;
const KINDS = new Set(['netns', 'host', 'attach']);

type Check = (value: unknown) => string | undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text: Check = (v) => (typeof v === 'string' && !v.includes('\n') ? undefined : 'is not a line of text');
const strings =
  (pattern?: RegExp): Check =>
  (v) =>
    Array.isArray(v) && v.every((s) => text(s) === undefined && (!pattern || pattern.test(s as string))) ? undefined : 'is not a list of names';
const mapOf =
  (keys: RegExp, value: Check): Check =>
  (v) => {
    if (!isObject(v)) return 'is not a mapping';
    const bad = Object.entries(v).find(([k, x]) => !keys.test(k) || value(x) !== undefined);
    return bad ? `has a bad entry ${JSON.stringify(bad[0])}` : undefined;
  };

const NODE_FIELDS: Record<string, Check> = {
  netns: (v) => (v === null || (typeof v === 'string' && NETNS_PATTERN.test(v) && v !== '.' && v !== '..') ? undefined : 'is not a namespace name'),
  kind: (v) => (typeof v === 'string' && KINDS.has(v) ? undefined : 'is not netns, host or attach'),
  source: (v) => (typeof v === 'string' && v.startsWith('/') && !v.includes('\n') ? undefined : 'is not an absolute path'),
  inode: (v) => (typeof v === 'string' && /^\d+$/.test(v) ? undefined : 'is not an inode number'),
  links: strings(IFNAME_PATTERN),
  addresses: mapOf(IFNAME_PATTERN, strings()),
  routes: strings(),
  objects: mapOf(/^[a-z]+$/, strings()),
  sysctls: mapOf(SYSCTL_KEY_PATTERN, text),
  interfaceSysctls: mapOf(SYSCTL_KEY_PATTERN, mapOf(SYSCTL_KEY_PATTERN, text)),
  creating: (v) => (typeof v === 'boolean' ? undefined : 'is not true or false'),
  nsid: (v) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : 'is not a namespace id'),
  nft: mapOf(/^.+$/, text),
  bridgeReads: strings(/^[a-z]+$/),
};

function nodeProblem(name: string, node: unknown): string | undefined {
  if (!NODE_NAME_PATTERN.test(name)) return `its node name ${JSON.stringify(name)} is not one`;
  if (!isObject(node)) return `node ${name} is not a mapping`;
  if (!('netns' in node) || !('kind' in node)) return `node ${name} has no netns or kind`;
  for (const [field, value] of Object.entries(node)) {
    const problem = NODE_FIELDS[field]?.(value);
    if (problem) return `node ${name}'s ${field} ${problem}`;
  }
  return undefined;
}

/** undefined: a record of `lab`; else what is wrong with it, to follow "record PATH ". */
export function recordProblem(value: unknown, lab: string): string | undefined {
  if (!isObject(value) || typeof value.lab !== 'string' || !isObject(value.nodes)) return 'is not a lab record (it needs a lab name and nodes)';
  if (value.lab !== lab) return `is lab ${LAB_NAME_PATTERN.test(value.lab) ? value.lab : JSON.stringify(value.lab)}'s, not ${lab}'s`;
  for (const [name, node] of Object.entries(value.nodes)) {
    const problem = nodeProblem(name, node);
    if (problem) return `is not a lab record (${problem})`;
  }
  return undefined;
}
