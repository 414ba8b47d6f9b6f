// The full-kernel lane's one door into its VM: a shell script goes in, booted under Debian's stock
// kernel by scripts/kernel-vm/run.sh, and what comes back is its exit code, its output and the
// files each of its steps wrote. Each boot costs about 15 s and node about 3 s a start under
// emulation, so a test batches its commands into one script.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
export const TOPOLOGIES = join(ROOT, 'topologies');
const RUN = join(ROOT, 'scripts', 'kernel-vm', 'run.sh');

/** Why the VM cannot run on this machine (one line), or undefined when it can. */
export function vmUnavailable(): string | undefined {
  const check = spawnSync('bash', [RUN, '--check'], { encoding: 'utf8' });
  if (check.status === 0) return undefined;
  return check.stdout.trim() || check.stderr.trim() || `${RUN} --check exited ${check.status}`;
}

/**
 * Shell functions every script gets: `step NAME CMD...` keeps CMD's output, exit code and time.
 * Builtins only around the command: under emulation every extra process costs a quarter second.
 */
const PRELUDE = `
step() {
  name=$1; shift
  read start _ </proc/uptime
  "$@" >"$name.out" 2>&1
  code=$?
  read end _ </proc/uptime
  echo "$code" >"$name.exit"
  centis=$(( \${end%.*}\${end#*.} - \${start%.*}\${start#*.} ))
  seconds=$((centis / 100)).$((centis % 100 / 10))
  echo "$seconds" >"$name.seconds"
  echo "step $name: exit $code in $seconds s"
}
netlab() { node ${JSON.stringify(CLI)} "$@"; }
`;

export interface Step {
  exitCode: number;
  output: string;
  seconds: number;
}

export interface VmRun {
  /** The script's own exit code (run.sh's when the VM failed to run it). */
  exitCode: number;
  /** run.sh's output: the script's, then a line with the boot and total times. */
  log: string;
  /** What `step NAME ...` recorded; a step that never ran fails the test that asks for it. */
  step(name: string): Step;
}

/** Boots the VM once and runs script (after PRELUDE) as root inside it. */
export async function runInVm(script: string, timeoutMs: number): Promise<VmRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'netlab-kernel-vm-'));
  writeFileSync(join(dir, 'script.sh'), PRELUDE + script);
  const { code, log } = await new Promise<{ code: number; log: string }>((resolve, reject) => {
    // pdeathsig: a test run stopped midway takes its VM down with it (run.sh passes it on to qemu).
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'bash', RUN, join(dir, 'script.sh'), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KERNEL_VM_TIMEOUT: String(Math.floor(timeoutMs / 1000)) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ code: status ?? 1, log: out }));
  });
  const steps = new Map<string, Step>();
  for (const name of stepNames(script)) {
    const file = (ext: string): string | undefined => {
      const path = join(dir, `${name}.${ext}`);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    };
    const exit = file('exit');
    if (exit !== undefined) steps.set(name, { exitCode: Number(exit), output: file('out') ?? '', seconds: Number(file('seconds') ?? NaN) });
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    exitCode: code,
    log,
    step(name) {
      const found = steps.get(name);
      if (!found) throw new Error(`the VM did not run step ${name}; its log:\n${log}`);
      return found;
    },
  };
}

/** The names a script gives its steps (`step NAME ...` at the start of a line). */
function stepNames(script: string): string[] {
  return [...script.matchAll(/^\s*step\s+([\w-]+)/gm)].map((m) => m[1]!);
}
