// Reads the live state of a lab's namespaces: one `ip -j -batch` process per namespace, in parallel.
import { readdirSync, readFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { DriverError } from '../errors.js';
import { emptyNode, type LabState, type NodeKind, type NodeState } from '../model/types.js';
import { readNftTable } from './nft-read.js';
import { hasOwnRootQdisc, readQdiscs } from './tc-read.js';
import { hasWireguard, readWireguard } from './wg-read.js';
import { namespaceInode, processesByNamespace, readAllRuns } from './processes.js';
import { resolvConfPath } from '../resources/dns.js';
import { ambiguousVethNodes } from '../resources/veth-pairing.js';
import { BRIDGE_READS, IP_READS } from '../resources/registry.js';
import { parseNamespaceIds, parseNode, parseSysctl, type IpLinkJson, type IpRouteJson, type NodeReadOutput } from './parse.js';
import { ALWAYS_THERE, interfaceKey } from '../model/forwarding.js';
import { ETC_NETNS, netnsPath } from './paths.js';
import { fileIdentity, isNamespaceFile } from './ns-file.js';
import { publishedState, type PublishedState } from './publish.js';
import { jobArgv, runJobs, type Job } from './fanout.js';
import { enterPath, type RunResult, type Runner } from './runner.js';
import { labFromMark } from '../model/names.js';
import { namespaceIds } from './marks.js';

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
  /** The `bridge -j` lines to read (BRIDGE_READS), where the file or the record has such objects. */
  bridgeReads?: string[];
  /** The file has WireGuard interfaces here: their keys and peers are read with wg. */
  wireguard?: boolean;
  /**
   * Per-interface sysctls to read too, as templates with `*` for the interface ("net.ipv4.conf.*.
   * forwarding"): for every interface the read finds, `default` and lo.
   */
  interfaceSysctls?: string[];
  /**
   * Destroy needs only to know a namespace is the lab's: when the record has its inode, the
   * namespace there still has it and the root namespace gives it the id the lab's run set (or,
   * without one, its lo carries the lab's mark), its contents are not read. The inode alone
   * proves nothing: the kernel gives a freed namespace's number to the next one.
   */
  recordedInode?: { inode: string; lab: string; nsid?: number };
  /**
   * The node changes kind: what is at /run/netns/<netns> is its old namespace, about to go, and is
   * read as though it were gone already (plan shows the node as its new kind would be made).
   */
  replacing?: boolean;
}

export interface ReadDeps {
  runner: Runner;
  concurrency: number;
  /** The lab's record directory: its run: commands' state is there. */
  recordDir?: string;
  /** By namespace: what its `ip` already answered to READ_LINES (an apply's read-back); no process needed. */
  ipAnswers?: ReadonlyMap<string, string>;
  /** By namespace: what `sysctl` already printed for the node's keys (an apply's read-back). */
  sysctlAnswers?: ReadonlyMap<string, string>;
  /**
   * Verify after a run: the veths the run made are paired by the command that made them, and the
   * others were proven by the plan's read, so the netns id lookup (lookUpPeerNamespaces) is skipped.
   */
  pairsProven?: boolean;
}

/**
 * One process answers all of them: `ip -j -batch` prints one JSON array per line. `addr show` has
 * links and addresses but not a link's IPv6 settings, which only `link show` prints. A batch line
 * cannot say -4/-6, so the `root` prefix picks the family (and `table all` with a filter later,
 * because `table main` with a root prefix answers nothing for IPv6). The resources' own lines
 * (IP_READS) come first, so that these four are always the last answers.
 */
const BASE_READ_LINES = ['link show', 'addr show', 'route show table all root 0.0.0.0/0', 'route show table all root ::/0'];
export const READ_LINES = [...IP_READS.map((r) => r.line), ...BASE_READ_LINES];
const READ_BATCH = `${READ_LINES.join('\n')}\n`;

/** The answers to READ_LINES (the last lines of an `ip -d -j -batch` output) as parseNode takes them. */
export function parseReadOutput(stdout: string): Pick<NodeReadOutput, 'links' | 'routes4' | 'routes6' | 'resourceAnswers'> {
  const answers = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-READ_LINES.length)
    .map((l) => JSON.parse(l) as unknown[]);
  const base = answers.slice(-BASE_READ_LINES.length);
  const resourceAnswers = answers.slice(0, -BASE_READ_LINES.length);
  const [linkShow, addrShow, routes4, routes6] = base as [IpLinkJson[]?, IpLinkJson[]?, IpRouteJson[]?, IpRouteJson[]?];
  const genMode = new Map((linkShow ?? []).map((l) => [l.ifindex, l.inet6_addr_gen_mode]));
  const links = (addrShow ?? []).map((l) => {
    const mode = genMode.get(l.ifindex);
    return mode === undefined ? l : { ...l, inet6_addr_gen_mode: mode };
  });
  return { links, routes4: routes4 ?? [], routes6: routes6 ?? [], resourceAnswers: resourceAnswers.length === IP_READS.length ? resourceAnswers : [] };
}

// The few small files and stats per namespace are read synchronously: microseconds each, where a
// promise round trip costs tens, times a thousand namespaces.

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}
/** /etc/netns/<netns> there and empty: what removing a resolv.conf leaves when stopped before its directory. */
function emptyEtcDir(netns: string | null): boolean {
  if (netns === null) return false;
  try {
    return readdirSync(`${ETC_NETNS}/${netns}`).length === 0;
  } catch {
    return false;
  }
}

/** A node's resolv.conf, and whether an empty directory is all that is left of one. */
function dnsFields(node: NodeState): void {
  if (node.netns === null) return;
  node.resolvConf = readOptional(resolvConfPath(node.netns));
  if (node.resolvConf === undefined && emptyEtcDir(node.netns)) node.etcDirLeft = true;
}



/** Where to enter a node's namespace to read it, whether it is there, and, for attach, whether it is published. */
function locate(target: NodeToRead, recordDir: string | undefined): { path: string | null; exists: boolean; publication?: PublishedState; stale?: boolean } {
  if (target.kind === 'host') return { path: null, exists: true };
  const named = netnsPath(target.netns!);
  if (target.kind === 'netns') {
    if (target.replacing) return { path: named, exists: false };
    const nsfs = isNamespaceFile(named);
    return { path: named, exists: nsfs === true, stale: nsfs === false };
  }
  const publication = target.replacing ? { published: false, byLab: false } : publishedState(target.node, target.netns!, target.source, recordDir);
  if (publication.published) return { path: named, exists: true, publication };
  return { path: target.source ?? named, exists: target.source !== undefined && fileIdentity(target.source) !== undefined, publication };
}

type Where = ReturnType<typeof locate>;

/** A namespace that may need no reading (destroy): the record's inode is there; its mark decides. */
async function mayBeTrusted(target: NodeToRead, where: Where): Promise<boolean> {
  if (!where.exists || target.kind !== 'netns' || !target.recordedInode) return false;
  return (await namespaceInode(where.path!)) === target.recordedInode.inode;
}

function loMarkJob(where: Where): Job {
  return { enter: where.path, argv: ['ip', '-j', 'link', 'show', 'dev', 'lo'] };
}

function markedAsLab(target: NodeToRead, mark: RunResult): boolean {
  if (mark.exitCode !== 0) return false;
  const [lo] = JSON.parse(mark.stdout) as IpLinkJson[];
  return labFromMark(lo?.ifalias) === target.recordedInode!.lab;
}

/** The namespace as destroy needs it, once proven the lab's; one not proven is read whole. */
function trusted(target: NodeToRead): NodeState {
  const { lab, inode } = target.recordedInode!;
  const node = { ...emptyNode(target.node, target.netns, true, 'netns'), owner: lab, inode };
  dnsFields(node);
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
  const answers = parseReadOutput(checked(ipReadJob(where), ip));
  const sysctlText = sysctl ? checked(sysctlReadJob(target, where), sysctl) : undefined;
  const node = parseNode(target.node, target.netns, { ...answers, sysctlText }, target.kind);
  node.source = target.source;
  dnsFields(node);
  publishedFields(node, where);
  if (target.kind === 'netns') node.inode = await namespaceInode(where.path!);
  if (hasOwnRootQdisc(answers.links)) node.qdiscs = await readQdiscs(inside, runner);
  if (target.wireguard && hasWireguard(answers.links)) node.wireguard = await readWireguard(inside, runner);
  if (target.interfaceSysctls) for (const [key, value] of await readInterfaceSysctls(inside, target.interfaceSysctls, [...node.links.keys()], runner)) node.sysctls.set(key, value);
  if (target.bridgeReads?.length) await readBridgeTables(inside, target.bridgeReads, node, runner);
  // In a namespace the lab does not own, whether the table is the lab's is its owner mark.
  if (target.nftTable) node.nft = await readNftTable(inside, target.nftTable, runner, { owner: target.kind !== 'netns' });
  return node;
}

/** One `bridge -j -batch` answers every line, one JSON array each, in order. */
async function readBridgeTables(inside: (argv: string[]) => string[], lines: readonly string[], node: NodeState, runner: Runner): Promise<void> {
  const argv = inside(['bridge', '-j', '-batch', '-']);
  const input = `${lines.join('\n')}\n`;
  const result = await runner.run(argv, input);
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr, input);
  const answers = result.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown[]);
  lines.forEach((line, i) => BRIDGE_READS.find((r) => r.line === line)?.parse(answers[i] ?? [], node));
}

function publishedFields(node: NodeState, where: Where): void {
  if (!where.publication) return;
  node.published = where.publication.published;
  if (where.publication.byLab) node.publishedByLab = true;
  if (where.publication.blocked) node.publishBlocked = where.publication.blocked;
}

/** sysctl -e: an interface without the key (IPv6 off on it) simply has none. */
async function readInterfaceSysctls(inside: (argv: string[]) => string[], templates: readonly string[], links: readonly string[], runner: Runner): Promise<Map<string, string>> {
  const keys = templates.flatMap((t) => [...ALWAYS_THERE, ...links].map((dev) => interfaceKey(t, dev)));
  const argv = inside(['sysctl', '-e', ...keys]);
  const result = await runner.run(argv);
  if (result.exitCode !== 0) throw new DriverError(argv, result.exitCode, result.stderr);
  return parseSysctl(result.stdout);
}

function missing(target: NodeToRead, where: Where): NodeState {
  const node = { ...emptyNode(target.node, target.netns, false, target.kind), source: target.source, ...(where.stale ? { stale: true } : {}) };
  publishedFields(node, where);
  // A namespace gone may have left its resolv.conf: a destroy stopped between the two.
  dnsFields(node);
  return node;
}

export async function readNode(target: NodeToRead, runner: Runner): Promise<NodeState> {
  return (await readNodes([target], { runner, concurrency: 1 }))[0]!;
}

/** Every target's `ip -j` read is started by one process (fanout.ts); the few extra reads follow. */
async function readNodes(targets: readonly NodeToRead[], deps: ReadDeps): Promise<NodeState[]> {
  const { runner, concurrency } = deps;
  const wheres = targets.map((t) => locate(t, deps.recordDir));
  const states: Array<NodeState | undefined> = targets.map((t, i) => (wheres[i]!.exists ? undefined : missing(t, wheres[i]!)));
  const candidates = (await Promise.all(targets.map((t, i) => mayBeTrusted(t, wheres[i]!)))).flatMap((may, i) => (may ? [i] : []));
  // One `ip netns list` answers for every namespace with an id; the others' marks take a process each.
  const withId = candidates.filter((i) => targets[i]!.recordedInode!.nsid !== undefined);
  const ids = withId.length > 0 ? await namespaceIds(runner) : new Map<string, number>();
  for (const i of withId) if (ids.get(targets[i]!.netns!) === targets[i]!.recordedInode!.nsid) states[i] = trusted(targets[i]!);
  const byMark = candidates.filter((i) => targets[i]!.recordedInode!.nsid === undefined);
  const marks = await runJobs(byMark.map((i) => loMarkJob(wheres[i]!)), runner, concurrency);
  byMark.forEach((i, k) => (states[i] = markedAsLab(targets[i]!, marks[k]!) ? trusted(targets[i]!) : undefined));
  const toRead = targets.map((_, i) => i).filter((i) => states[i] === undefined);
  const answered = (answers: ReadonlyMap<string, string> | undefined, i: number) => {
    const netns = targets[i]!.netns;
    return netns === null ? undefined : answers?.get(netns);
  };
  const known = (i: number) => answered(deps.ipAnswers, i);
  const ipToRead = toRead.filter((i) => known(i) === undefined);
  const withSysctls = toRead.filter((i) => targets[i]!.sysctlKeys.length > 0 && answered(deps.sysctlAnswers, i) === undefined);
  const jobs = [...ipToRead.map((i) => ipReadJob(wheres[i]!)), ...withSysctls.map((i) => sysctlReadJob(targets[i]!, wheres[i]!))];
  const answers = await runJobs(jobs, runner, concurrency);
  const ipAnswer = new Map(ipToRead.map((i, k) => [i, answers[k]!]));
  const sysctlAnswer = new Map(withSysctls.map((i, k) => [i, answers[ipToRead.length + k]!]));
  for (const i of toRead) {
    const text = targets[i]!.sysctlKeys.length > 0 ? answered(deps.sysctlAnswers, i) : undefined;
    if (text !== undefined) sysctlAnswer.set(i, { exitCode: 0, stdout: text, stderr: '' });
  }
  const ipOf = (i: number): RunResult => ipAnswer.get(i) ?? { exitCode: 0, stdout: known(i)!, stderr: '' };
  const limit = pLimit(concurrency);
  await Promise.all(toRead.map((i) => limit(async () => (states[i] = await finishNode(targets[i]!, wheres[i]!, ipOf(i), sysctlAnswer.get(i), runner)))));
  if (!deps.pairsProven) await lookUpPeerNamespaces(toRead.map((i) => ({ state: states[i]!, where: wheres[i]! })), runner, concurrency);
  return states as NodeState[];
}

function namespaceIdsJob(where: Where): Job {
  return { enter: where.path, argv: ['ip', '-j', 'netns', 'list-id'] };
}

/**
 * The netns ids of the namespaces whose veths ifindexes alone cannot pair. Only those: `netns
 * list-id` names each id by trying every file under /run/netns, a cost that grows with them all.
 */
async function lookUpPeerNamespaces(read: Array<{ state: NodeState; where: Where }>, runner: Runner, concurrency: number): Promise<void> {
  const ambiguous = ambiguousVethNodes(read.map((r) => r.state));
  const toLookUp = read.filter((r) => r.state.exists && ambiguous.has(r.state.node));
  if (toLookUp.length === 0) return;
  const jobs = toLookUp.map((r) => namespaceIdsJob(r.where));
  const answers = await runJobs(jobs, runner, concurrency);
  toLookUp.forEach((r, k) => (r.state.peerNamespaces = parseNamespaceIds(checked(jobs[k]!, answers[k]!))));
}

/** Which processes live in each of the lab's own namespaces: one pass over /proc for all of them. */
async function findProcesses(states: NodeState[]): Promise<void> {
  const owned = states.filter((s) => s.kind === 'netns' && s.exists);
  if (owned.length === 0) return;
  const byInode = await processesByNamespace();
  for (const s of owned) {
    // Read with the node already (finishNode, trusted); stat again only when it was not.
    const inode = s.inode ?? (await namespaceInode(netnsPath(s.netns!)));
    s.pids = (inode && byInode.get(inode)) || [];
  }
}

export async function readLab(lab: string, targets: readonly NodeToRead[], deps: ReadDeps): Promise<LabState> {
  const states = await readNodes(targets, deps);
  if (deps.recordDir) {
    const runs = await readAllRuns(deps.recordDir, states.map((s) => s.node));
    for (const s of states) s.runs = runs.get(s.node)!;
  }
  await findProcesses(states);
  return { lab, nodes: new Map(states.map((s) => [s.node, s])) };
}
