// The lab as a shell script: the commands that build it from nothing, in order, one per line (an
// nftables script is one command over several lines, a here-document) —
// what a student would type. Pure, and derived from the very changes and commands apply runs
// (diff against an empty kernel, schedule, commandsOf), so the script and apply cannot disagree:
// apply sends each step below to one process (`ip -batch`, `sysctl -w k=v ...`), the script
// spells it out.
import { dirname } from 'node:path';
import type { LabSpec } from '../config/spec.js';
import { commandsOf, resourceOf } from '../resources/registry.js';
import type { Command, Scope } from '../resources/resource.js';
import { CONTAINER_TOOLS, inspectArgv } from '../kernel/container.js';
import { netnsPath, RUN_NETNS } from '../kernel/paths.js';
import { RUN_MARKER } from '../kernel/processes.js';
import { resolveLab } from '../model/resolve.js';
import { wgSetWords, type WireguardKey } from '../model/wireguard.js';
import { emptyNode, ownsWholeNamespace, type LabState } from '../model/types.js';
import { KIND_ORDER, type Change } from '../plan/change.js';
import { diff } from '../plan/diff.js';
import { schedule, type Batch } from '../plan/graph.js';

/** Characters a shell word may hold unquoted. */
const SAFE_WORD = /^[A-Za-z0-9_.\/:=@%+,-]+$/;

/** Single quotes, always: what is inside is taken as it is. */
export function singleQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A word as a shell reads it back: as it is when safe, else single-quoted. */
export function shellWord(text: string): string {
  return SAFE_WORD.test(text) ? text : singleQuote(text);
}

/** A container's namespace in the script: its pid is asked when the script runs, as plan asks. */
function containerSource(container: string): string {
  return `/proc/$(container_pid ${container})/ns/net`;
}

const CONTAINER_SOURCE = /^\/proc\/\$\(container_pid [A-Za-z0-9][A-Za-z0-9_.-]*\)\/ns\/net$/;

/** The source of a publish: a path, or a container's lookup (its name is schema-checked: no quoting needed). */
function sourceWord(source: string): string {
  return CONTAINER_SOURCE.test(source) ? `"${source}"` : shellWord(source);
}

/** The shell function the container lookups call: the first engine that has the container running. */
function containerPidFunction(): string[] {
  const inspect = inspectArgv('"$t"', '"$1"').map((w) => (w.startsWith('{{') ? singleQuote(w) : w)).join(' ');
  return [
    '',
    `# A container's pid, from whichever of ${CONTAINER_TOOLS.join(', ')} has it running (netlab plan asks the same).`,
    'container_pid() {',
    `  for t in ${CONTAINER_TOOLS.join(' ')}; do`,
    `    p=$(${inspect} 2>/dev/null) && [ "$p" -gt 0 ] 2>/dev/null && { echo "$p"; return 0; }`,
    '  done',
    `  echo "no running container $1 (asked ${CONTAINER_TOOLS.join(', ')})" >&2`,
    '  return 1',
    '}',
  ];
}

function shellWords(line: string): string {
  return line.split(' ').map(shellWord).join(' ');
}

/** printf arguments that print `content` exactly. */
function printfArgs(content: string): string {
  if (content.endsWith('\n')) {
    return `'%s\\n' ${content.slice(0, -1).split('\n').map(singleQuote).join(' ')}`;
  }
  return `'%s' ${singleQuote(content)}`;
}

/**
 * The note apply keeps of a namespace it published (kernel/publish.ts), so that destroy takes that
 * mount away as the lab's: the namespace's device and inode, in the lab's record directory.
 */
function publicationLines(lab: string, cmd: Extract<Command, { tool: 'mount'; op: 'publish' }>): string[] {
  const dir = `"\${NETLAB_STATE_DIR:-/run/netlab}"/${shellWord(lab)}/publish`;
  const note = `'{"netns":"%s","namespace":"%s"}\\n' ${shellWord(cmd.netns)} "$(stat -L -c %d:%i ${sourceWord(cmd.source)})"`;
  return [`mkdir -p ${dir}`, `printf ${note} > ${dir}/${shellWord(cmd.node)}.json`];
}

/**
 * A run: command started as apply starts it (kernel/processes.ts): its run file first, with no pid
 * yet, then the process with the file named in its environment, by which plan finds it running.
 */
function runLines(lab: string, cmd: Extract<Command, { tool: 'proc'; op: 'start' }>): string[] {
  const dir = `"\${NETLAB_STATE_DIR:-/run/netlab}"/${shellWord(lab)}/run`;
  const file = `${dir}/${shellWord(`${cmd.node}.${cmd.key}`)}`;
  const note = `'{"command":%s,"pid":0,"started":"","log":"%s"}\\n' ${singleQuote(JSON.stringify(cmd.command))} ${file}.log`;
  return [`mkdir -p ${dir}`, `printf ${note} > ${file}.json`, `${RUN_MARKER}=${file}.json setsid ${cmd.argv.map(shellWord).join(' ')} >>${file}.log 2>&1 &`];
}

/**
 * `wg set` as a person would type it: the keys netlab makes are made first where apply keeps them
 * (each once: a key already there is kept), and a peer's public key comes from its private key.
 */
function wireguardLines(cmd: Extract<Command, { tool: 'wg' }>, exec: string, lab: string | undefined): string[] {
  const dir = `"\${NETLAB_STATE_DIR:-/run/netlab}"/${shellWord(lab ?? 'LAB')}/wireguard`;
  const fileOf = (key: WireguardKey) => ('file' in key ? shellWord(key.file) : `${dir}/${shellWord(`${key.generated}.key`)}`);
  const keys = [cmd.wireguard.key!, ...cmd.wireguard.peers.map((p) => p.key!)];
  const made = [...new Set(keys.flatMap((k) => ('generated' in k ? [fileOf(k)] : [])))];
  const words = wgSetWords(cmd.wireguard, cmd.remove, {
    privateKeyFile: (key) => `\0${fileOf(key)}`,
    publicKey: (peer) => `\0"$(wg pubkey < ${fileOf(peer.key!)})"`,
  });
  // Words made here are shell already (marked \0); the rest are the file's values.
  const line = words.map((w) => (w.startsWith('\0') ? w.slice(1) : shellWord(w))).join(' ');
  return [...(made.length > 0 ? [`mkdir -p -m 700 ${dir}`] : []), ...made.map((f) => `[ -s ${f} ] || (umask 077 && wg genkey > ${f})`), `${exec}wg ${line}`];
}

/** One kernel command as a person would type it; `lab` names where a publish is noted as the lab's. */
export function commandLines(cmd: Command, netns: string | null, lab?: string): string[] {
  const exec = netns === null ? '' : `ip netns exec ${shellWord(netns)} `;
  switch (cmd.tool) {
    case 'ip':
      return [netns === null ? `ip ${shellWords(cmd.line)}` : `ip -n ${shellWord(netns)} ${shellWords(cmd.line)}`];
    case 'tc':
      return [netns === null ? `tc ${shellWords(cmd.line)}` : `tc -n ${shellWord(netns)} ${shellWords(cmd.line)}`];
    case 'bridge':
      return [netns === null ? `bridge ${shellWords(cmd.line)}` : `bridge -n ${shellWord(netns)} ${shellWords(cmd.line)}`];
    case 'sysctl':
      return [`${exec}sysctl -w ${shellWord(cmd.assignment)}`];
    case 'file':
      if (cmd.op === 'write') return [`mkdir -p ${shellWord(dirname(cmd.path))}`, `printf ${printfArgs(cmd.content)} > ${shellWord(cmd.path)}`];
      return [`rm -f ${shellWord(cmd.path)}`, `rmdir ${shellWord(dirname(cmd.path))} 2>/dev/null || true`];
    case 'nft': {
      // One command over several lines: nft reads its script from a here-document, as typed.
      const body = cmd.script.endsWith('\n') ? cmd.script : `${cmd.script}\n`;
      let end = 'NFT';
      while (body.split('\n').includes(end)) end += '_END';
      return [`${exec}nft -f - <<'${end}'\n${body}${end}`];
    }
    case 'mount': {
      // A namespace the lab did not make (kind attach), published where `ip netns` looks.
      const target = shellWord(netnsPath(cmd.netns));
      return cmd.op === 'publish'
        ? [
            `mkdir -p ${RUN_NETNS}`,
            // As ip netns add leaves it: its own mount point, shared, before anything is mounted in it.
            `mount --make-shared ${RUN_NETNS} 2>/dev/null || { mount --bind ${RUN_NETNS} ${RUN_NETNS} && mount --make-shared ${RUN_NETNS}; }`,
            ...(lab === undefined ? [] : publicationLines(lab, cmd)),
            `touch ${target}`,
            `mount --bind ${sourceWord(cmd.source)} ${target}`,
          ]
        : [`umount ${target}`, `rm -f ${target}`];
    }
    case 'wg':
      return wireguardLines(cmd, exec, lab);
    case 'proc':
      // A run: command, left running in the background with its output in a log, as apply does.
      if (cmd.op === 'start') return lab === undefined ? [`setsid ${cmd.argv.map(shellWord).join(' ')} >/dev/null 2>&1 &`] : runLines(lab, cmd);
      return cmd.op === 'evict' ? [`ip netns pids ${shellWord(cmd.netns)} | xargs -r kill`] : [`# stop run ${cmd.node}.${cmd.key}`];
    default:
      return assertNever(cmd);
  }
}

function assertNever(value: never): never {
  throw new Error(`no shell form for command ${JSON.stringify(value)}`);
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function whereOf(scope: Scope, changes: readonly Change[]): string {
  if (scope.netns === null) return 'root namespace';
  const node = changes[0]?.node;
  return node !== undefined && node !== scope.netns ? `namespace ${scope.netns}, node ${node}` : `namespace ${scope.netns}`;
}

function describeBatch(batch: Batch): string {
  const kinds = [...new Set(batch.changes.map((c) => c.kind))].sort((a, b) => KIND_ORDER.indexOf(a) - KIND_ORDER.indexOf(b));
  return `${joinWords(kinds.map((k) => resourceOf({ kind: k }).plural))} (${whereOf(batch.scope, batch.changes)})`;
}

/**
 * The batches apply would run for this lab on a machine where none of it exists, in order: no
 * namespace of its own yet, and the namespaces it does not own (host, attach) there but empty.
 */
export function buildSteps(desired: LabState): Batch[] {
  const existing = [...desired.nodes.values()].filter((n) => !ownsWholeNamespace(n.kind));
  const actual: LabState = { lab: desired.lab, nodes: new Map(existing.map((n) => [n.node, { ...emptyNode(n.node, n.netns, true, n.kind), source: n.source, published: false }])) };
  const plan = diff(desired, actual);
  return schedule(plan.changes).rounds.flat();
}

export interface ScriptOptions {
  /** The lab file, named in the header. */
  file?: string;
}

export function renderScript(spec: LabSpec, options: ScriptOptions = {}): string {
  const desired = resolveLab(spec);
  const containers = Object.entries(spec.nodes).filter(([, n]) => n.kind === 'attach' && n.container !== undefined && n.pid === undefined);
  for (const [name, node] of containers) desired.nodes.get(name)!.source = containerSource(node.container!);
  const steps = buildSteps(desired);
  const from = options.file ? ` (${options.file})` : '';
  const out = [
    '#!/bin/sh',
    `# netlab script: lab ${spec.name}${from}`,
    '# The commands that build the lab from nothing, in order, one per line: the same changes and',
    '# commands `netlab apply` runs, which sends each step below to one process (`ip -batch`).',
    "# Run as root where none of the lab exists yet: sh -e THIS_FILE. The lab is then netlab's like",
    `# any applied lab: \`netlab plan\` finds it clean, \`netlab destroy ${spec.name}\` removes it.`,
    'set -e',
  ];
  if (containers.length > 0) out.push(...containerPidFunction());
  steps.forEach((batch, i) => {
    out.push('', `# step ${i + 1}: ${describeBatch(batch)}`);
    for (const change of batch.changes) {
      for (const cmd of commandsOf(change)) out.push(...commandLines(cmd, batch.scope.netns, spec.name));
    }
  });
  return `${out.join('\n')}\n`;
}
