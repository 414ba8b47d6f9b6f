// Runs kernel tools and waits for what they print; tests may swap it. Not every process starts
// here: run: commands start detached (processes.ts), flock takes the locks (state/lock.ts), tests
// start their listeners (labtest/run.ts), and exec runs the user's command (cli/commands/exec.ts).
import { execa } from 'execa';
import { netnsPath } from './paths.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  run(argv: readonly string[], input?: string): Promise<RunResult>;
}

export function processRunner(): Runner {
  return {
    async run(argv, input) {
      const [file, ...args] = argv;
      const result = await execa(file!, args, { input: input ?? '', reject: false, stripFinalNewline: false });
      const exitCode = result.exitCode ?? (result.failed ? 127 : 0);
      const stderr = result.exitCode === undefined && result.failed ? `${String(result.stderr)}${result.message}` : String(result.stderr);
      return { exitCode, stdout: String(result.stdout), stderr };
    },
  };
}

/** argv that runs a tool inside a namespace; null is the root namespace. nsenter, not `ip -n`:
 * `ip -n` and `ip netns exec` copy the whole mount table on every call, which grows with the
 * number of namespaces. */
export function inNamespace(netns: string | null, argv: readonly string[]): string[] {
  return enterPath(netns === null ? null : netnsPath(netns), argv);
}

/** argv that runs a tool inside the namespace a file names (/run/netns/X, /proc/PID/ns/net); null is the root namespace. */
export function enterPath(path: string | null, argv: readonly string[]): string[] {
  return path === null ? [...argv] : ['nsenter', `--net=${path}`, ...argv];
}
