// netlab trace FILE|NAME FROM DEST: one packet followed hop by hop through the applied lab, from
// the kernel's answers, then checked against the real probe.
import { readAppliedLab } from '../../engine.js';
import { UserError } from '../../errors.js';
import { canonicalIp, familyOf } from '../../model/ip.js';
import type { LabState } from '../../model/types.js';
import { isIp } from '../../labtest/resolve.js';
import { checkTrace } from '../../trace/check.js';
import { kernelOf } from '../../trace/kernel.js';
import type { TraceProto } from '../../trace/nft-eval.js';
import { renderTrace, traceToJson, type ProbeCheck } from '../../trace/render.js';
import { trace } from '../../trace/walk.js';
import { checkLabName, engineDeps, isFile, loadSpec, requireRoot, type CommonOptions } from '../context.js';
import { outputFormat } from '../options.js';
import { printDocument, type Output } from '../output.js';
import { DEFAULT_TEST_TIMEOUT } from './test.js';

export interface TraceOptions extends CommonOptions {
  proto?: string;
  port?: string;
  source?: string;
  json?: boolean;
  output?: string;
  check?: boolean;
  timeout?: string;
  capture?: boolean;
}

/** The explanation and the probe disagree, or the probe could not say. */
export const EXIT_TRACE_DISAGREES = 1;

/** The lab's name: read from the file, or given as it is. */
export async function labNameOf(target: string, options: CommonOptions, out: Output): Promise<string> {
  if (await isFile(target)) return (await loadSpec(target, out, options)).spec.name;
  return checkLabName(target);
}

/** An address as it is; a node name means its first address (of the family asked for, if any). */
export function destinationAddress(lab: LabState, dest: string): string {
  if (isIp(dest)) return canonicalIp(dest);
  const node = lab.nodes.get(dest);
  if (!node) throw new UserError(`${dest} is neither an address nor a node of lab ${lab.lab} (nodes: ${[...lab.nodes.keys()].sort().join(', ')})`);
  // IPv4 first, as ping would be asked for first; then IPv6.
  const all = [...node.links.values()].flatMap((l) => l.addresses);
  const first = all.find((a) => familyOf(a) === 4) ?? all[0];
  if (!first) throw new UserError(`node ${dest} has no address to trace to — give an address instead`);
  return first.split('/')[0]!;
}

function protoOf(options: TraceOptions): { proto: TraceProto; port?: number } {
  const proto = (options.proto ?? 'icmp') as TraceProto;
  if (options.port === undefined) {
    if (proto !== 'icmp') throw new UserError(`--proto ${proto} needs --port N (the destination port)`);
    return { proto };
  }
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port < 1 || port > 65535) throw new UserError(`--port takes a port from 1 to 65535, got ${JSON.stringify(options.port)}`);
  if (proto === 'icmp') throw new UserError('--port needs --proto tcp or --proto udp (icmp has no ports)');
  return { proto, port };
}

export async function traceCommand(target: string, from: string, dest: string, options: TraceOptions, out: Output): Promise<number> {
  const format = outputFormat(options);
  const { proto, port } = protoOf(options);
  if (options.source !== undefined && !isIp(options.source)) throw new UserError(`--source takes an address, got ${JSON.stringify(options.source)}`);
  const name = await labNameOf(target, options, out);
  requireRoot();
  const deps = engineDeps(options, out);
  const lab = await readAppliedLab(name, deps);
  if (!lab) throw new UserError(`no applied lab ${name} — see netlab ls`);
  if (!lab.nodes.get(from)?.exists) throw new UserError(`no node ${from} in lab ${name} (nodes: ${[...lab.nodes.keys()].sort().join(', ')})`);
  const dst = destinationAddress(lab, dest);
  if (options.source && familyOf(options.source) !== familyOf(dst)) throw new UserError(`--source ${options.source} and ${dst} are of different IP versions`);
  const log = options.verbose ? (netns: string | null, argv: readonly string[]) => out.err(`  [${netns ?? 'root'}] ${argv.join(' ')}`) : undefined;

  const explained = await trace(lab, kernelOf(lab, deps.runner, log), { from, dst, proto, ...(port !== undefined ? { port } : {}), ...(options.source ? { source: options.source } : {}) });
  let check: ProbeCheck | undefined;
  // A probe from a chosen --source could not be sent as the trace assumes: the probe would pick its own.
  if (options.capture && (options.check === false || options.source)) throw new UserError('--capture captures the probe: it cannot go with --no-check or --source');
  if (options.check !== false && !options.source) {
    const timeoutSeconds = options.timeout === undefined ? DEFAULT_TEST_TIMEOUT : Number(options.timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 60) throw new UserError(`--timeout takes whole seconds from 1 to 60, got ${JSON.stringify(options.timeout)}`);
    check = await checkTrace(lab, explained, { runner: deps.runner, timeoutSeconds, log, capture: options.capture === true });
  }
  if (format !== 'text') printDocument(out, format, traceToJson(name, explained, check));
  else out.out(renderTrace(name, explained, check));
  return check && !check.agrees ? EXIT_TRACE_DISAGREES : 0;
}
