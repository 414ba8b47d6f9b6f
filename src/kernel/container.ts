// kind: attach, container: NAME — the container's pid, asked of whichever container engine knows
// it, at plan time. The node is then as if written with that pid: /proc/PID/ns/net is its namespace.
import type { LabSpec, NodeSpec } from '../config/spec.js';
import { UserError } from '../errors.js';
import type { Runner, RunResult } from './runner.js';

/** The engines asked, in this order; each takes `container inspect --format` as docker does. */
export const CONTAINER_TOOLS = ['docker', 'podman', 'nerdctl'] as const;

/** `container inspect`, not `inspect`: an image or volume of the same name is not the container. */
export function inspectArgv(tool: string, container: string): string[] {
  return [tool, 'container', 'inspect', '--format', '{{.State.Pid}}', container];
}

/** What one engine said about a container, in words for the error when none has it running. */
export type Answer = { tool: string; pid: number } | { tool: string; missing: true } | { tool: string; said: string };

/** A runner's 127: the program is not on PATH (kernel/runner.ts). */
const NOT_FOUND = 127;

export function readAnswer(tool: string, result: RunResult): Answer {
  if (result.exitCode === NOT_FOUND && !result.stdout) return { tool, missing: true };
  const text = result.stdout.trim();
  if (result.exitCode === 0 && /^\d+$/.test(text)) {
    const pid = Number(text);
    // A container that is not running has pid 0: there is no namespace to attach.
    return pid > 0 ? { tool, pid } : { tool, said: 'it is not running (pid 0)' };
  }
  const said = (result.stderr.trim() || text || `exit ${result.exitCode}`).split('\n')[0]!;
  return { tool, said: said.replace(/^Error( response from daemon)?:\s*/i, '') };
}

/** One line: the container, and what each engine answered (or that it is not installed). */
export function notFoundMessage(node: string, container: string, answers: readonly Answer[]): string {
  const missing = answers.filter((a) => 'missing' in a).map((a) => a.tool);
  const said = answers.flatMap((a) => ('said' in a ? [`${a.tool}: ${a.said}`] : []));
  const parts = [...said, ...(missing.length ? [`${missing.join(', ')}: not installed`] : [])];
  const asked = CONTAINER_TOOLS.join(', ');
  return said.length === 0
    ? `node ${node}: container ${container} cannot be looked up — none of ${asked} is installed; install the one that runs it, or give pid: PID instead`
    : `node ${node}: no running container ${container} (asked ${asked} — ${parts.join('; ')}); start it, or fix the name (docker ps lists them)`;
}

/** The pid of a running container from the first engine that has it running, or why there is none. */
export async function containerPid(node: string, container: string, runner: Runner): Promise<number | string> {
  const answers: Answer[] = [];
  for (const tool of CONTAINER_TOOLS) {
    const answer = readAnswer(tool, await runner.run(inspectArgv(tool, container)));
    if ('pid' in answer) return answer.pid;
    answers.push(answer);
  }
  return notFoundMessage(node, container, answers);
}

/** The lab with every container: node given the pid its engine reports, as if written pid: PID. */
export async function withContainerPids(spec: LabSpec, runner: Runner): Promise<LabSpec> {
  const named = Object.entries(spec.nodes).filter(([, node]) => node.kind === 'attach' && node.container !== undefined);
  if (named.length === 0) return spec;
  const pids = await Promise.all(named.map(([name, node]) => containerPid(name, node.container!, runner)));
  // Every container that cannot be found is named at once, before anything is read or changed.
  const problems = pids.filter((p): p is string => typeof p === 'string');
  if (problems.length) throw new UserError(`${problems.join('\n')}\nnothing was changed`);
  const nodes: Record<string, NodeSpec> = { ...spec.nodes };
  named.forEach(([name, node], i) => (nodes[name] = { ...node, pid: pids[i] as number }));
  return { ...spec, nodes };
}
