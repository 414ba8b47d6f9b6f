#!/usr/bin/env node
// argv → command. The only place that calls process.exit.
import { Command, CommanderError } from 'commander';
import { formatDiagnostic, sortDiagnostics } from '../diagnostics.js';
import { ConfigError, ConflictError, CycleError, DriverError, UserError, VerificationError } from '../errors.js';
import { processOutput, type Output } from './output.js';

export const EXIT = { ok: 0, failure: 1, changes: 2, usage: 64, badTopology: 65 } as const;

function errorToExit(error: unknown, out: Output): number {
  if (error instanceof ConfigError) {
    for (const d of sortDiagnostics(error.diagnostics)) out.err(formatDiagnostic(d));
    const errors = error.diagnostics.filter((d) => d.severity === 'error').length;
    out.err(`${errors} error(s); nothing was changed.`);
    return EXIT.badTopology;
  }
  if (error instanceof ConflictError) {
    out.err(`${error.message}error: apply refuses while something the lab would create belongs to someone else; nothing was changed.`);
    return EXIT.failure;
  }
  if (error instanceof DriverError) {
    out.err(`error: ${error.argv.join(' ')} failed (exit ${error.exitCode}): ${error.stderr.trim()}`);
    return EXIT.failure;
  }
  if (error instanceof UserError || error instanceof VerificationError || error instanceof CycleError) {
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

export function buildProgram(out: Output, setExit: (code: number) => void): Command {
  const program = new Command('netlab')
    .description('Declarative network labs on Linux: namespaces, veth links, bridges, addresses, routes, sysctls, DNS')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.out(s), writeErr: (s) => out.err(s) })
    .showHelpAfterError();
  // Each command's module is loaded when it runs: `netlab --help` and `validate` do not pay for
  // execa, graphlib and the rest, and every command starts sooner.
  const run = (fn: () => Promise<number>) => async () => setExit(await fn().catch((e: unknown) => errorToExit(e, out)));
  const common = (cmd: Command) =>
    cmd
      .option('-v, --verbose', 'print each kernel command as it runs')
      .option('--concurrency <n>', 'namespaces worked on at once', '8')
      .option('--wait <seconds>', "how long to wait for another netlab run's lock", '60');
  // --node a --node b: repeatable, in the order given.
  const nodeOption = (cmd: Command, what: string) => cmd.option('--node <name>', `${what} (repeatable)`, (name: string, names: string[] = []) => [...names, name]);

  program.command('validate').argument('<file>', 'lab file').description('check a lab file; exit 65 with every error').action((file: string) => run(async () => (await import('./commands/validate.js')).validateCommand(file, out))());
  nodeOption(common(program.command('plan')), 'plan only this node and its links to other nodes named')
    .argument('<file>', 'lab file')
    .description('show what apply would change, read from the live kernel')
    .option('--json', 'the plan as JSON')
    .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when none')
    .option('--out <plan>', 'save the plan, for `netlab apply PLAN` to apply exactly it')
    .action((file: string, opts) => run(async () => (await import('./commands/plan.js')).planCommand(file, opts, out))());
  nodeOption(common(program.command('apply')), 'apply only this node and its links to other nodes named')
    .argument('<file|plan>', 'lab file, or a plan saved by netlab plan --out')
    .description('show the plan, make the kernel match the file, then verify it')
    .option('--json', 'stream JSON lines: one per change done/failed, then a summary')
    .option('-q, --quiet', 'the closing sentence alone: no plan, no progress line')
    .action((file: string, opts) => run(async () => (await import('./commands/apply.js')).applyCommand(file, opts, out))());
  nodeOption(common(program.command('destroy')), 'remove only this node and its links')
    .argument('<file|name>', 'lab file, or the name of an applied lab (see netlab ls)')
    .description('remove exactly what the lab made')
    .option('--dry-run', 'show what destroy would remove; change nothing')
    .action((target: string, opts) => run(async () => (await import('./commands/destroy.js')).destroyCommand(target, opts, out))());
  common(program.command('test'))
    .argument('<file>', 'lab file')
    .description("run the lab's tests (ping, connect) inside the applied lab; exit 1 when any fails")
    .option('--json', 'the results as JSON')
    .option('--timeout <seconds>', 'per test: ping deadline, connect and reply timeout (default 3)')
    .action((file: string, opts) => run(async () => (await import('./commands/test.js')).testCommand(file, opts, out))());
  nodeOption(common(program.command('status')), 'show only this node')
    .argument('[name]', 'an applied lab (default: all)')
    .description('per lab: nodes, interfaces with addresses, state and peer, routes, and what differs from its file')
    .option('--json', 'as JSON')
    .action((name: string | undefined, opts) => run(async () => (await import('./commands/status.js')).statusCommand(name, opts, out))());
  program
    .command('exec')
    .argument('<node>', 'a node of an applied lab')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('--lab <name>', 'the lab, when several have this node')
    .description("run a command in a node's namespace, with its resolv.conf in place")
    .action((node: string, argv: string[], opts) => run(async () => (await import('./commands/exec.js')).execCommand(node, argv, opts))());
  program.command('ls').description('the labs applied on this machine').option('--json', 'as JSON').action((opts) => run(async () => (await import('./commands/ls.js')).lsCommand(opts, out))());
  program
    .command('graph')
    .argument('<file>', 'lab file')
    .description('the topology as a picture: Mermaid (default), Graphviz DOT, or SVG through dot')
    .option('--format <format>', 'mermaid | dot | svg', 'mermaid')
    .action((file: string, opts) => run(async () => (await import('./commands/graph.js')).graphCommand(file, opts, out))());
  program.command('script').argument('<file>', 'lab file').description('the shell commands that build the lab from nothing, in order').action((file: string) => run(async () => (await import('./commands/script.js')).scriptCommand(file, out))());
  program
    .command('export')
    .argument('<netns...>', 'network namespaces to describe (names under /run/netns)')
    .description('print a lab file that describes live namespaces')
    .option('--concurrency <n>', 'namespaces read at once', '8')
    .option('--name <lab>', 'the lab name to write (default: the lab that marked them, else "exported")')
    .action((namespaces: string[], opts) => run(async () => (await import('./commands/export.js')).exportCommand(namespaces, opts, out))());
  return program;
}

async function main(): Promise<void> {
  let code: number = EXIT.ok;
  const program = buildProgram(processOutput, (c) => (code = c));
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      code = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      code = errorToExit(error, processOutput);
    }
  }
  process.exitCode = code;
}

await main();
