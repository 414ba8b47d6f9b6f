// Reads the live state of a lab's namespaces: one `ip -j -batch` process per namespace, in parallel.
import { readFile, stat, statfs } from 'node:fs/promises';
import pLimit from 'p-limit';
import { DriverError } from '../errors.js';
import { emptyNode, type LabState, type NftTable, type NodeKind, type NodeState } from '../model/types.js';
import { isNoSuchTable, parseNftTable } from './nft-parse.js';
import { namespaceInode, processesByNamespace, readRuns } from './processes.js';
import { resolvConfPath } from './commands.js';
import { parseNode, type IpLinkJson, type IpRouteJson } from './parse.js';
import { netnsPath } from './paths.js';
import { jobArgv, runJobs, type Job } from './fanout.js';
import { enterPath, type RunResult, type Runner } from './runner.js';

export interface NodeToRead {
  node: string;
  kind: NodeKind;
  /** null: the root namespace. */
  netns: string | null;
  /** kind attach: the namespace file it publishes. */
  source?: string;
  /** Sysctls to read; only those the file sets are compared. */
  sysctlKeys: string[];
  /** The lab's nftables table to read, when the file or the record says the node has one. */
  nftTable?: string;
  /**
   * Destroy needs only to know a namespace is the lab's: when the record has its inode and the
   * namespace there still has it, reading its contents (a process per namespace) is skipped.
   */
  recordedInode?: { inode: string; lab: string };
}

export interface ReadDeps {
  runner: Runner;
  concurrency: number;
  /** The lab's record directory: its run: commands' state is there. */
  recordDir?: string;
}

/**
 * One process answers all three: `ip -j -batch` prints one JSON array per line. A batch line
 * cannot say -4/-6, so the `root` prefix picks the family (and `table all` with a filter later,
 * because `table main` with a root prefix answers nothing for IPv6).
 */
const READ_BATCH = ['addr show', 'route show table all root 0.0.0.0/0', 'route show table all root ::/0', ''].join('\n');

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readOptional(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw e;
  });
}


async function identity(path: string): Promise<string | undefined> {
  return stat(path).then(
    (s) => `${s.dev}:${s.ino}`,
    () => undefined,
  );
}

/** Where to enter a node's namespace to read it, whether it is there, and, for attach, whether it is published. */
/** statfs(2) f_type of nsfs: what /run/netns/X is once `ip netns add` has finished. */
const NSFS_MAGIC = 0x6e736673;

/** true: a namespace; false: a file that is not one; undefined: nothing there. */
async function isNamespaceFile(path: string): Promise<boolean | undefined> {
  return statfs(path).then(
    (s) => s.type === NSFS_MAGIC,
    () => undefined,
  );
}

async function locate(target: NodeToRead): Promise<{ path: string | null; exists: boolean; published?: boolean; stale?: boolean }> {
  if (target.kind === 'host') return { path: null, exists: true };
  const named = netnsPath(target.netns!);
  if (target.kind === 'netns') {
    const nsfs = await isNamespaceFile(named);
    return { path: named, exists: nsfs === true, stale: nsfs === false };
  }
  const [source, publishedAs] = await Promise.all([target.source ? identity(target.source) : undefined, identity(named)]);
  const published = publishedAs !== undefined && (source === undefined || publishedAs === source);
  if (published) return { path: named, exists: true, published: true };
  return { path: target.source ?? named, exists: source !== undefined, published: false };
}

type Where = Awaited<ReturnType<typeof locate>>;

/** A namespace the record knows by its inode needs no reading (destroy): what is there is the lab's. */
async function trusted(target: NodeToRead, where: Where): Promise<NodeState | undefined> {
  if (!where.exists || target.kind !== 'netns' || !target.recordedInode) return undefined;
  const inode = await namespaceInode(where.path!);
  if (inode !== target.recordedInode.inode) return undefined;
  const node = { ...emptyNode(target.node, target.netns, true, 'netns'), owner: target.recordedInode.lab, inode };
  node.resolvConf = await readOptional(resolvConfPath(target.netns));
  return node;
}

function ipReadJob(where: Where): Job {
  return { enter: where.path, argv: ['ip', '-d', '-j', '-batch', '-'], input: READ_BATCH };
}

/** sysctl -e: a per-interface key of an interface not made yet is simply absent. */
function sysctlReadJob(target: NodeToRead, where: Where): Job {
  return { enter: where.path, argv: ['sysctl', '-e', ...target.sysctlKeys] };
}

function checked(job: Job, result: RunResult): string {
  if (result.exitCode !== 0) throw new DriverError(jobArgv(job), result.exitCode, result.stderr, job.input);
  return result.stdout;
}

/** The rest of a node once its `ip -j` and sysctl answers are in: nftables, resolv.conf, and the parse. */
async function finishNode(target: NodeToRead, where: Where, ip: RunResult, sysctl: RunResult | undefined, runner: Runner): Promise<NodeState> {
  const inside = (argv: string[]) => enterPath(where.path, argv);
  const [links, routes4, routes6] = checked(ipReadJob(where), ip)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown[]);
  const sysctlText = sysctl ? checked(sysctlReadJob(target, where), sysctl) : undefined;
  const node = parseNode(
    target.node,
    target.netns,
    {
      links: (links ?? []) as IpLinkJson[],
      routes4: (routes4 ?? []) as IpRouteJson[],
      routes6: (routes6 ?? []) as IpRouteJson[],
      sysctlText,
      resolvConf: target.netns === null ? undefined : await readOptional(resolvConfPath(target.netns)),
    },
    target.kind,
  );
  node.source = target.source;
  node.published = where.published;
  if (target.kind === 'netns') node.inode = await namespaceInode(where.path!);
  if (target.nftTable) node.nft = await readNftTable(inside, target.nftTable, runner);
  return node;
}

function missing(target: NodeToRead, where: Where): NodeState {
  return { ...emptyNode(target.node, target.netns, false, target.kind), source: target.source, ...(where.stale ? { stale: true } : {}) };
}

export async function readNode(target: NodeToRead, runner: Runner): Promise<NodeState> {
  return (await readNodes([target], runner, 1))[0]!;
}

/** Every target's `ip -j` read is started by one process (fanout.ts); the few extra reads follow. */
async function readNodes(targets: readonly NodeToRead[], runner: Runner, concurrency: number): Promise<NodeState[]> {
  const wheres = await Promise.all(targets.map((t) => locate(t)));
  const states: Array<NodeState | undefined> = await Promise.all(targets.map((t, i) => (wheres[i]!.exists ? trusted(t, wheres[i]!) : missing(t, wheres[i]!))));
  const toRead = targets.map((_, i) => i).filter((i) => states[i] === undefined);
  const withSysctls = toRead.filter((i) => targets[i]!.sysctlKeys.length > 0);
  const jobs = [...toRead.map((i) => ipReadJob(wheres[i]!)), ...withSysctls.map((i) => sysctlReadJob(targets[i]!, wheres[i]!))];
  const answers = await runJobs(jobs, runner, concurrency);
  const sysctlAnswer = new Map(withSysctls.map((i, k) => [i, answers[toRead.length + k]!]));
  const limit = pLimit(concurrency);
  await Promise.all(toRead.map((i, k) => limit(async () => (states[i] = await finishNode(targets[i]!, wheres[i]!, answers[k]!, sysctlAnswer.get(i), runner)))));
  return states as NodeState[];
}

/** Which processes live in each of the lab's own namespaces: one pass over /proc for all of them. */
async function findProcesses(states: NodeState[]): Promise<void> {
  const owned = states.filter((s) => s.kind === 'netns' && s.exists);
  if (owned.length === 0) return;
  const byInode = await processesByNamespace();
  for (const s of owned) {
    const inode = await namespaceInode(netnsPath(s.netns!));
    s.pids = (inode && byInode.get(inode)) || [];
  }
}

async function readNftTable(inside: (argv: string[]) => string[], table: string, runner: Runner): Promise<NftTable | undefined> {
  const argv = inside(['nft', '-j', 'list', 'table', 'inet', table]);
  const result = await runner.run(argv);
  if (result.exitCode !== 0 && isNoSuchTable(result.stderr)) return undefined;
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  return parseNftTable(result.stdout);
}

export async function readLab(lab: string, targets: readonly NodeToRead[], deps: ReadDeps): Promise<LabState> {
  const states = await readNodes(targets, deps.runner, deps.concurrency);
  if (deps.recordDir) for (const s of states) s.runs = await readRuns(deps.recordDir, s.node);
  await findProcesses(states);
  return { lab, nodes: new Map(states.map((s) => [s.node, s])) };
}
