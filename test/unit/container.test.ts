// container: NAME — which engine is asked, what its answers mean, and the one line when none has it.
import { describe, expect, it } from 'vitest';
import type { LabSpec } from '../../src/config/spec.js';
import { withContainerPids } from '../../src/kernel/container.js';
import type { Runner, RunResult } from '../../src/kernel/runner.js';
import { resolveLab } from '../../src/model/resolve.js';

/** A runner whose engines answer from a table: tool → container → result; a tool not listed is not installed. */
function engines(table: Record<string, Record<string, Partial<RunResult>>>): Runner & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    async run(argv) {
      asked.push([...argv]);
      const [tool, , , , , name] = argv;
      const known = table[tool!];
      if (!known) return { exitCode: 127, stdout: '', stderr: `spawn ${tool} ENOENT` };
      const answer = known[name!] ?? { exitCode: 1, stderr: `Error: No such container: ${name}` };
      return { exitCode: 0, stdout: '', stderr: '', ...answer };
    },
  };
}

const lab = (nodes: LabSpec['nodes']): LabSpec => ({ name: 'x', nodes });

describe('container: NAME', () => {
  it('asks docker container inspect for the pid, and the node becomes /proc/PID/ns/net', async () => {
    const runner = engines({ docker: { web1: { stdout: '4711\n' } } });
    const spec = await withContainerPids(lab({ web: { kind: 'attach', container: 'web1' } }), runner);
    expect(runner.asked).toEqual([['docker', 'container', 'inspect', '--format', '{{.State.Pid}}', 'web1']]);
    expect(resolveLab(spec).nodes.get('web')!.source).toBe('/proc/4711/ns/net');
  });

  it('asks podman, then nerdctl, when docker does not have it', async () => {
    const runner = engines({ docker: {}, nerdctl: { web1: { stdout: '99' } } });
    const spec = await withContainerPids(lab({ web: { kind: 'attach', container: 'web1' } }), runner);
    expect(spec.nodes.web!.pid).toBe(99);
    expect(runner.asked.map((a) => a[0])).toEqual(['docker', 'podman', 'nerdctl']);
  });

  it('asks nothing for a lab without container: nodes', async () => {
    const runner = engines({});
    const spec = lab({ a: {}, b: { kind: 'attach', pid: 5 } });
    expect(await withContainerPids(spec, runner)).toBe(spec);
    expect(runner.asked).toEqual([]);
  });

  it('names every container not found at once, with what each engine said', async () => {
    const runner = engines({ docker: { stopped: { stdout: '0' } }, podman: { weird: { exitCode: 125, stderr: 'Error: template: no such field\nmore' } } });
    const spec = lab({ a: { kind: 'attach', container: 'nope' }, b: { kind: 'attach', container: 'stopped' }, c: { kind: 'attach', container: 'weird' } });
    await expect(withContainerPids(spec, runner)).rejects.toThrow(
      [
        'node a: no running container nope (asked docker, podman, nerdctl — docker: No such container: nope; podman: No such container: nope; nerdctl: not installed); start it, or fix the name (docker ps lists them)',
        'node b: no running container stopped (asked docker, podman, nerdctl — docker: it is not running (pid 0); podman: No such container: stopped; nerdctl: not installed); start it, or fix the name (docker ps lists them)',
        'node c: no running container weird (asked docker, podman, nerdctl — docker: No such container: weird; podman: template: no such field; nerdctl: not installed); start it, or fix the name (docker ps lists them)',
        'nothing was changed',
      ].join('\n'),
    );
  });

  it('says so when no engine is installed at all', async () => {
    await expect(withContainerPids(lab({ a: { kind: 'attach', container: 'web1' } }), engines({}))).rejects.toThrow(
      'node a: container web1 cannot be looked up — none of docker, podman, nerdctl is installed; install the one that runs it, or give pid: PID instead\nnothing was changed',
    );
  });
});
