// netlab exec NODE -- CMD...: a command inside a node's namespace, as `ip netns exec` runs it
// (the node's /etc/netns/<ns>/resolv.conf over /etc/resolv.conf), stdio and exit code passed through.
import { constants as fsConstants, accessSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { stateDir } from '../../kernel/paths.js';
import { findNode } from '../../lab/locate.js';
import { requireRoot } from '../context.js';

/** The shell's exit codes for a command that cannot run. */
export const EXIT_NOT_FOUND = 127;
export const EXIT_NOT_EXECUTABLE = 126;

function executable(file: string): 'yes' | 'no' | 'absent' {
  try {
    if (statSync(file).isDirectory()) return 'no';
    accessSync(file, fsConstants.X_OK);
    return 'yes';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'no';
  }
}

/** As a shell finds a command: a path as it is, a bare name on PATH. Undefined when it can run. */
export function commandProblem(command: string, path: string | undefined): { code: number; message: string } | undefined {
  const candidates = command.includes('/') ? [command] : (path ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  const found = candidates.map(executable);
  if (found.includes('yes')) return undefined;
  if (found.includes('no')) return { code: EXIT_NOT_EXECUTABLE, message: `${command}: not executable (permission denied, or a directory)` };
  return { code: EXIT_NOT_FOUND, message: command.includes('/') ? `${command}: no such file` : `${command}: command not found` };
}

/** Killed by a signal: the shell's convention, 128 + its number. */
export function signalExitCode(signal: string): number {
  return 128 + (constants.signals[signal as NodeJS.Signals] ?? 0);
}

export async function execCommand(node: string, argv: string[], options: { lab?: string }): Promise<number> {
  requireRoot();
  const { recorded } = await findNode(stateDir(), node, options.lab);
  const problem = commandProblem(argv[0]!, process.env.PATH);
  if (problem) {
    process.stderr.write(`netlab exec: ${problem.message}\n`);
    return problem.code;
  }
  const full = recorded.netns === null ? argv : ['ip', 'netns', 'exec', recorded.netns, ...argv];
  const result = await execa(full[0]!, full.slice(1), { stdio: 'inherit', reject: false });
  if (result.exitCode !== undefined) return result.exitCode;
  return result.signal ? signalExitCode(result.signal) : 1;
}
