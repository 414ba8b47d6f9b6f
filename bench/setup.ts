// What the bench needs on the machine: root, the kernel tools, GNU time for peak memory,
// Mininet for its baseline (installed on demand), and a fresh build of netlab.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export type Log = (line: string) => void;

async function has(command: string): Promise<boolean> {
  return (await execa('sh', ['-c', `command -v ${command}`], { reject: false })).exitCode === 0;
}

let aptUpdated = false;
async function aptInstall(packages: string[], log: Log): Promise<string | undefined> {
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    const u = await execa('apt-get', ['update', '-qq'], { reject: false, env, all: true });
    if (u.exitCode !== 0) return `apt-get update failed: ${String(u.all).trim().split('\n').slice(-3).join(' ')}`;
    aptUpdated = true;
  }
  log(`apt-get install ${packages.join(' ')}`);
  // No recommends: Mininet's is Open vSwitch, whose daemons would start on this machine, and
  // the Linux-bridge switch the bench uses does not need it.
  const i = await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { reject: false, env, all: true });
  return i.exitCode === 0 ? undefined : `apt-get install ${packages.join(' ')} failed: ${String(i.all).trim().split('\n').slice(-3).join(' ')}`;
}

export async function checkMachine(log: Log): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the bench makes network namespaces (in sandboxes): run it as root');
  const missing = [];
  for (const c of ['ip', 'nsenter', 'unshare', 'ping', 'xargs']) if (!(await has(c))) missing.push(c);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run scripts/setup.sh first`);
  if (!existsSync('/usr/bin/time')) {
    const err = await aptInstall(['time'], log);
    if (err) throw new Error(`${err} (GNU time measures netlab's peak memory)`);
  }
}

/** True when Mininet can run; installs it when `install` and it is missing. Never throws. */
export async function ensureMininet(install: boolean, log: Log): Promise<boolean> {
  const ready = async () => (await has('mn')) && (await has('brctl')); // lxbr drives the bridge with brctl
  if (await ready()) return true;
  if (!install) {
    log('Mininet is not installed: its baseline is skipped (run without --quick to install it)');
    return false;
  }
  const err = await aptInstall(['mininet', 'bridge-utils'], log);
  if (err || !(await ready())) {
    log(`MININET BASELINE SKIPPED: ${err ?? 'mn or brctl still missing after the install'}`);
    return false;
  }
  return true;
}

/**
 * Builds netlab, then measures a copy of that build (dist/, schemas/ and package.json, which netlab
 * reads its version from, under dist-bench/netlab/,
 * where node_modules still resolves): a rebuild of dist/ during a long bench would otherwise
 * change the program between runs. Returns the copy's CLI, or an error text.
 */
export async function buildNetlab(root: string, build: boolean, log: Log): Promise<{ cli: string } | { error: string }> {
  if (build) {
    log('npm run build (netlab)');
    const b = await execa('npm', ['run', 'build', '--silent'], { cwd: root, reject: false, all: true });
    if (b.exitCode !== 0) return { error: `npm run build failed:\n${String(b.all).trim().split('\n').slice(-20).join('\n')}` };
  }
  const snapshot = join(root, 'dist-bench/netlab');
  rmSync(snapshot, { recursive: true, force: true });
  for (const path of ['dist', 'schemas', 'package.json']) cpSync(join(root, path), join(snapshot, path), { recursive: true });
  const cli = join(snapshot, 'dist/cli/main.js');
  const h = await execa(process.execPath, [cli, '--help'], { reject: false, all: true });
  return h.exitCode === 0 ? { cli } : { error: `node ${cli} --help exited ${h.exitCode}:\n${String(h.all).trim()}` };
}
