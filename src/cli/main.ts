#!/usr/bin/env node
// argv → command, and an error thrown by one → its message and exit code (set as process.exitCode).
import chalk from 'chalk';
import { Argument, Command, CommanderError, Option } from 'commander';
import { formatDiagnostic, sortDiagnostics } from '../diagnostics.js';
import { ConfigError, ConflictError, CycleError, DriverError, UserError, VerificationError } from '../errors.js';
import { GRAPH_FORMATS } from '../views/graph.js';
import { colorLevel } from './color.js';
import { collectVar, positiveInteger, seconds } from './options.js';
import { processOutput, type Output } from './output.js';
import { packageInfo } from './package-info.js';
import { SHELLS, type Shell } from './completion.js';

export const EXIT = { ok: 0, failure: 1, changes: 2, usage: 64, badTopology: 65 } as const;

async function errorToExit(error: unknown, out: Output): Promise<number> {
  if (error instanceof ConfigError) {
    for (const d of sortDiagnostics(error.diagnostics)) out.err(formatDiagnostic(d));
    const errors = error.diagnostics.filter((d) => d.severity === 'error').length;
    out.err(`${errors} error(s); nothing was changed.`);
    return EXIT.badTopology;
  }
  if (error instanceof ConflictError || error instanceof VerificationError) {
    // Loaded here: only a refused or unverified run pays for the plan's renderer.
    const { renderConflicts, renderUnverified } = await import('./report.js');
    out.err(error instanceof ConflictError ? renderConflicts(error) : renderUnverified(error));
    return EXIT.failure;
  }
  if (error instanceof DriverError) {
    out.err(`error: ${error.argv.join(' ')} failed (exit ${error.exitCode}): ${error.stderr.trim()}`);
    return EXIT.failure;
  }
  if (error instanceof UserError || error instanceof CycleError) {
    out.err(`error: ${error.message}`);
    return EXIT.failure;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof Error && (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS')) {
    // A full or read-only /run/netlab: the user's to fix, not a bug.
    out.err(`error: ${error.message} — free space there and run again`);
    return EXIT.failure;
  }
  out.err(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failure;
}

/** -o json|yaml, kubectl's spelling of --json (and of the same document as YAML). */
function outputOption(formats: readonly string[] = ['json', 'yaml']): Option {
  return new Option('-o, --output <format>', `the output as ${formats.join(' or ')} (as --json)`).choices(formats);
}

export function buildProgram(out: Output, setExit: (code: number) => void): Command {
  const program = new Command('netlab')
    .description('Declarative network labs on Linux: namespaces, veth links, bridges, addresses, routes, sysctls, DNS')
    .version(packageInfo().version)
    .option('--no-color', 'no colour, also on a terminal (as NO_COLOR=1 does)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.out(s), writeErr: (s) => out.err(s) })
    .showHelpAfterError();
  // Colour as NO_COLOR, FORCE_COLOR and --no-color say, decided once before any command writes.
  program.hook('preAction', () => {
    const { color } = program.opts<{ color: boolean }>();
    chalk.level = colorLevel({ env: process.env, color, isTTY: process.stdout.isTTY === true, detected: chalk.level });
  });
  // Each command's module is loaded when it runs: `netlab --help` and `validate` do not pay for
  // execa, graphlib and the rest, and every command starts sooner.
  const run = (fn: () => Promise<number>) => async () => setExit(await fn().catch((e: unknown) => errorToExit(e, out)));
  const common = (cmd: Command) =>
    cmd
      .option('-v, --verbose', 'print each kernel command as it runs')
      .option('--concurrency <n>', 'namespaces worked on at once', positiveInteger, '8')
      .option('--wait <seconds>', "how long to wait for another netlab run's lock", seconds, '60');
  /** A command that reads a lab file (or `-` for stdin) with ${NAME} variables in it. */
  const withVars = (cmd: Command) => cmd.option('--var <NAME=VALUE>', 'a value for ${NAME} in the lab file (repeatable; before the environment)', collectVar);
  // --node a --node b: repeatable, in the order given.
  const nodeOption = (cmd: Command, what: string) => cmd.option('--node <name>', `${what} (repeatable)`, (name: string, names: string[] = []) => [...names, name]);

  withVars(program.command('validate'))
    .argument('<file>', 'lab file, or - for stdin')
    .description('check a lab file; exit 65 with every error')
    .option('--json', 'the result as JSON')
    .addOption(outputOption())
    .action((file: string, opts) => run(async () => (await import('./commands/validate.js')).validateCommand(file, opts, out))());
  nodeOption(withVars(common(program.command('plan'))), 'plan only this node and its links to other nodes named')
    .argument('<file>', 'lab file, or - for stdin')
    .description('show what apply would change, read from the live kernel')
    .option('--json', 'the plan as JSON')
    .addOption(outputOption())
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none')
    .option('--out <plan>', 'save the plan, for `netlab apply PLAN` to apply exactly it')
    .action((file: string, opts) => run(async () => (await import('./commands/plan.js')).planCommand(file, opts, out))());
  nodeOption(withVars(common(program.command('apply'))), 'apply only this node and its links to other nodes named')
    .argument('<file|plan>', 'lab file (- for stdin), or a plan saved by netlab plan --out')
    .description('show the plan, make the kernel match the file, then verify it')
    .option('--json', 'stream JSON lines: one per change done/failed, then a summary')
    .addOption(outputOption(['json']))
    .option('-q, --quiet', 'the closing sentence alone: no plan, no progress line')
    .action((file: string, opts) => run(async () => (await import('./commands/apply.js')).applyCommand(file, opts, out))());
  nodeOption(withVars(common(program.command('destroy'))), 'remove only this node and its links')
    .argument('<file|name>', 'lab file (- for stdin), or the name of an applied lab (see netlab ls)')
    .description('remove exactly what the lab made')
    .option('--json', 'what was removed, as JSON')
    .addOption(outputOption())
    .option('--dry-run', 'show what destroy would remove; change nothing')
    .action((target: string, opts) => run(async () => (await import('./commands/destroy.js')).destroyCommand(target, opts, out))());
  withVars(common(program.command('test')))
    .argument('<file>', 'lab file, or - for stdin')
    .description("run the lab's tests (ping, connect, route) inside the applied lab; exit 1 when any fails")
    .option('--json', 'the results as JSON')
    .addOption(outputOption())
    .option('--timeout <seconds>', 'per test: ping deadline, connect and reply timeout (default 3)')
    .action((file: string, opts) => run(async () => (await import('./commands/test.js')).testCommand(file, opts, out))());
  nodeOption(withVars(common(program.command('status'))), 'show only this node')
    .argument('[name]', 'an applied lab (default: all)')
    .description('per lab: nodes, interfaces with addresses, state and peer, routes, run: commands, and what differs from its file; exit 3 when a lab has none of its nodes left')
    .option('--json', 'as JSON')
    .addOption(outputOption())
    .action((name: string | undefined, opts) => run(async () => (await import('./commands/status.js')).statusCommand(name, opts, out))());
  withVars(program.command('trace'))
    .argument('<file|name>', 'lab file, or the name of an applied lab')
    .option('-v, --verbose', 'print each kernel command as it runs')
    .argument('<from>', 'the node the packet starts at')
    .argument('<dest>', 'an address, or a node (its first address)')
    .description("follow one packet hop by hop through the applied lab, from the kernel's answers, then check it with the real probe; exit 1 when they disagree")
    .addOption(new Option('--proto <proto>', 'the packet\'s protocol').choices(['icmp', 'tcp', 'udp']).default('icmp'))
    .option('--port <n>', 'the destination port (tcp, udp)')
    .option('--source <address>', 'the source address (default: the one the kernel picks); skips the probe')
    .option('--no-check', 'explain only: send no probe')
    .option('--capture', 'tcpdump on every interface the packet crosses while the probe runs, each line labelled by hop')
    .option('--timeout <seconds>', 'the probe\'s deadline (default 3)')
    .option('--json', 'the hops and the verdict as JSON')
    .addOption(outputOption())
    .action((target: string, from: string, dest: string, opts) => run(async () => (await import('./commands/trace.js')).traceCommand(target, from, dest, opts, out))());
  withVars(program.command('capture'))
    .argument('<file|name>', 'lab file, or the name of an applied lab')
    .argument('<node:interface>', 'where to capture, for example host:eth0')
    .description("tcpdump inside a node of the applied lab: decoded packets as they pass, or a pcap; Ctrl-C stops it")
    .option('--filter <bpf>', "a tcpdump filter, for example 'icmp or tcp port 80'")
    .option('--count <n>', 'stop after this many packets')
    .option('--write <file.pcap>', 'write the packets to a pcap file (Wireshark opens it) instead of printing them')
    .action((target: string, where: string, opts) => run(async () => (await import('./commands/capture.js')).captureCommand(target, where, opts, out))());
  program
    .command('exec')
    .argument('<node>', 'a node of an applied lab')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--lab <name>', 'the lab, when several have this node')
    .description("run a command in a node's namespace, with its resolv.conf in place")
    .action((node: string, argv: string[], opts) => run(async () => (await import('./commands/exec.js')).execCommand(node, argv, opts))());
  program
    .command('ls')
    .description('the labs applied on this machine')
    .option('--json', 'as JSON')
    .addOption(outputOption())
    .action((opts) => run(async () => (await import('./commands/ls.js')).lsCommand(opts, out))());
  withVars(program.command('graph'))
    .argument('<file>', 'lab file, or - for stdin')
    .description('the topology as a picture: Mermaid (default), Graphviz DOT, or SVG through dot')
    .addOption(new Option('--format <format>', 'the picture\'s format').choices(GRAPH_FORMATS).default('mermaid'))
    .action((file: string, opts) => run(async () => (await import('./commands/graph.js')).graphCommand(file, opts, out))());
  withVars(program.command('script'))
    .argument('<file>', 'lab file, or - for stdin')
    .description('the shell commands that build the lab from nothing, in order')
    .action((file: string, opts) => run(async () => (await import('./commands/script.js')).scriptCommand(file, opts, out))());
  program
    .command('export')
    .argument('<netns...>', 'network namespaces to describe (names under /run/netns)')
    .description('print a lab file that describes live namespaces')
    .option('--concurrency <n>', 'namespaces read at once', positiveInteger, '8')
    .option('--name <lab>', 'the lab name to write (default: the lab that marked them, else "exported")')
    .option('--json', 'the lab and what was read, as JSON')
    .addOption(outputOption())
    .action((namespaces: string[], opts) => run(async () => (await import('./commands/export.js')).exportCommand(namespaces, opts, out))());
  program
    .command('version')
    .description("netlab's version, from its package.json")
    .option('--json', 'as JSON')
    .addOption(outputOption())
    .action((opts) => run(async () => (await import('./commands/about.js')).versionCommand(opts, out))());
  program
    .command('schema')
    .description('the JSON Schema of a lab file (its $id names it), for editors and tools')
    .option('--path', 'where the schema file is installed, for # yaml-language-server: $schema=PATH')
    .option('--id', "only the schema's $id")
    .action((opts) => run(async () => (await import('./commands/about.js')).schemaCommand(opts, out))());
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .description('a completion script: source <(netlab completion bash), netlab completion fish | source')
    .action((shell: Shell) => run(async () => (await import('./commands/about.js')).completionCommand(shell, program, out))());
  return program;
}

/**
 * stdout for commands: once the reader has gone (`netlab script big.yaml | head -1`), further
 * output is dropped and the command ends quietly, where Node would die on EPIPE with a stack trace.
 * The command itself runs to its end: an apply is not cut short by a closed pipe.
 */
function pipeSafeOutput(): Output {
  let closed = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return {
    out: (text) => {
      if (!closed) processOutput.out(text);
    },
    err: processOutput.err,
  };
}

async function main(): Promise<void> {
  let code: number = EXIT.ok;
  const output = pipeSafeOutput();
  const program = buildProgram(output, (c) => (code = c));
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      code = await errorToExit(error, output);
    }
  }
  process.exitCode = code;
}

await main();
