// What every command needs: the lab file loaded (or exit 65), root, the engine's dependencies.
import { stat } from 'node:fs/promises';
import { loadLab, type LoadOptions } from '../config/load.js';
import type { LabSpec } from '../config/spec.js';
import { formatDiagnostic, hasErrors } from '../diagnostics.js';
import type { EngineDeps } from '../engine.js';
import { ConfigError, UserError } from '../errors.js';
import type { Scope } from '../resources/resource.js';
import { stateDir } from '../kernel/paths.js';
import { processRunner } from '../kernel/runner.js';
import { LAB_NAME_PATTERN } from '../model/names.js';
import type { Output } from './output.js';

export interface LoadedSpec {
  file: string;
  spec: LabSpec;
  /** The text the spec was parsed from. */
  text: string;
}

/** What a command that reads a lab file takes: --var NAME=VALUE, repeatable. */
export interface VarOptions {
  var?: Record<string, string>;
}

/** How the CLI reads a lab: `-` is stdin, ${NAME} comes from --var, then the environment. */
export function loadOptions(options: VarOptions = {}): LoadOptions {
  return { vars: options.var ?? {}, env: process.env };
}

/** Loads and validates; prints warnings; throws ConfigError (exit 65) with every error. */
export async function loadSpec(file: string, out: Output, options: VarOptions = {}): Promise<LoadedSpec> {
  const loaded = await loadLab(file, loadOptions(options));
  if (hasErrors(loaded.diagnostics) || !loaded.spec) throw new ConfigError(loaded.diagnostics);
  for (const d of loaded.diagnostics) out.err(formatDiagnostic(d));
  return { file: loaded.file, spec: loaded.spec, text: loaded.text ?? '' };
}

export function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new UserError('netlab reads and changes network namespaces, which needs root — run it as root (sudo netlab ...)');
  }
}

export interface CommonOptions extends VarOptions {
  verbose?: boolean;
  concurrency?: string;
  /** Seconds to wait for another run's lock. */
  wait?: string;
  /** --node, repeatable: only these nodes and the links between them. */
  node?: string[];
}

/**
 * Ctrl-C and SIGTERM during apply or destroy: the batches under way finish and nothing new starts,
 * so the run stops between kernel commands and can say where.
 */
export function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let over = false;
  const onSignal = (name: NodeJS.Signals) => {
    // The run is over: nothing is left to stop, and the command ends with what it did.
    if (over) return;
    // A second Ctrl-C means now.
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${name}: stopping after the commands under way (again to stop at once)...\n`);
    controller.abort();
  };
  // process.on, not once, and kept until the process ends (signal listeners do not keep it
  // alive): execa's exit hook kills the process when a signal comes and it sees no other
  // listener, and a Ctrl-C just after the run must not cut its summary off with exit 130.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      over = true;
    },
  };
}

function describeScope(scope: Scope): string {
  return scope.netns === null ? 'root' : scope.netns;
}

export function engineDeps(options: CommonOptions, out: Output): EngineDeps {
  const concurrency = Number(options.concurrency ?? 8);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UserError(`--concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  const wait = Number(options.wait ?? 60);
  if (!Number.isFinite(wait) || wait < 0) throw new UserError(`--wait must be a number of seconds ≥ 0, got ${options.wait}`);
  return {
    runner: processRunner(),
    concurrency,
    lockWaitMs: wait * 1000,
    onLockWait: (message) => out.err(message),
    onWarning: (message) => out.err(`netlab: ${message}`),
    stateDir: stateDir(),
    nodes: options.node?.length ? options.node : undefined,
    log: options.verbose ? { command: (scope, text) => out.err(`  [${describeScope(scope)}] ${text}`) } : undefined,
  };
}

/** destroy takes a file or a lab name; a path that exists is a file. */
export async function isFile(arg: string): Promise<boolean> {
  return stat(arg).then(
    () => true,
    () => false,
  );
}

export function checkLabName(name: string): string {
  if (!LAB_NAME_PATTERN.test(name)) {
    throw new UserError(`"${name}" is neither a file nor a lab name — a lab name matches ${LAB_NAME_PATTERN.source}; see \`netlab ls\``);
  }
  return name;
}
