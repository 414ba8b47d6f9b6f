// The CLI as a shell user meets it: stdin and <(...), closed pipes, colour, exit codes, JSON
// documents, and run: commands in status.
import { expect, it } from 'vitest';
import { CLI, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = `name: cli-lab
nodes:
  a:
    interfaces: {eth0: {addresses: ["\${NET:-198.51.100}.1/24"]}}
    run: ["exec sleep 3101"]
  b:
    interfaces: {eth0: {addresses: [198.51.100.2/24]}}
links: [[a:eth0, b:eth0]]
`;

/** netlab through a shell: pipes, process substitution and environment as a user types them. */
const shell = (script: string, env: Record<string, string> = {}) => sb.run(['bash', '-c', script, 'netlab', process.execPath, CLI], { env });
const NETLAB = '"$1" "$2"';

it('reads a lab from stdin and from <(...), and applies what stdin gives', async () => {
  const piped = await sb.run([process.execPath, CLI, 'validate', '-'], { input: 'name: x\nnodes:\n  a: {kind: docker}\n' });
  expect(piped.exitCode).toBe(65);
  expect(piped.stderr).toMatch(/^<stdin>:3:13: error: nodes\.a\.kind cannot be "docker"/m);
  const substituted = await shell(`${NETLAB} validate <(printf 'name: x\\nnodes: {a: {}}\\n')`);
  expect(substituted.stdout, substituted.stderr).toMatch(/^\/dev\/fd\/\d+: lab x is valid \(1 node\(s\), 0 link\(s\)\)/);

  const applied = await sb.run([process.execPath, CLI, 'apply', '-'], { input: LAB });
  expect(applied.exitCode, applied.stderr).toBe(0);
  expect(await sb.ping('a', '198.51.100.2')).toBe(true);
  await sb.netlabOk('destroy', 'cli-lab');
});

it('substitutes --var over the environment, and a missing variable is exit 65 at its place', async () => {
  const lab = 'name: v\nnodes:\n  a: {bridges: {br0: {addresses: ["${ADDR}"]}}}\n';
  const missing = await sb.run([process.execPath, CLI, 'validate', '-'], { input: lab });
  expect(missing.exitCode).toBe(65);
  expect(missing.stderr).toMatch(/^<stdin>:3:36: error: variable ADDR is not defined/m);
  const script = await sb.run([process.execPath, CLI, 'script', '--var', 'ADDR=192.0.2.9/32', '-'], { input: lab, env: { ADDR: '192.0.2.1/32' } });
  expect(script.stdout, script.stderr).toMatch(/192\.0\.2\.9\/32/);
  expect(script.stdout).not.toMatch(/192\.0\.2\.1\/32/);
});

it('ends quietly when the reader of its output goes, and colours only when asked', async () => {
  const lab = `{ echo 'name: big'; echo 'nodes:'; for i in $(seq 0 1499); do echo "  n$i: {bridges: {br0: {addresses: [10.0.$((i/256)).$((i%256))/32]}}}"; done; }`;
  const head = await shell(`${lab} | ${NETLAB} script - | head -1; echo "exit \${PIPESTATUS[1]}" >&2`);
  expect(head.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  expect(head.stderr).not.toMatch(/EPIPE|Error|at /);
  expect(head.stderr.trim()).toBe('exit 0');

  const drift = 'name: c\nnodes: {a: {}}\n';
  const plan = (env: Record<string, string>, ...args: string[]) => sb.run([process.execPath, CLI, 'plan', ...args, '-'], { input: drift, env });
  // The sandbox sets NO_COLOR=1: FORCE_COLOR wins over it, --no-color over both.
  expect((await plan({ FORCE_COLOR: '1' })).stdout).toContain('\u001b[');
  expect((await plan({ FORCE_COLOR: '1' }, '--no-color')).stdout).not.toContain('\u001b[');
  expect((await plan({})).stdout).not.toContain('\u001b[');
});

it('exits 64 with the usage line for a bad option value', async () => {
  for (const args of [
    ['plan', '--concurrency', '0', '-'],
    ['apply', '--wait', 'abc', '-'],
    ['graph', '--format', 'png', '-'],
    ['ls', '-o', 'xml'],
  ]) {
    const r = await sb.netlab(...args);
    expect(r.exitCode, args.join(' ')).toBe(64);
    expect(r.stderr).toMatch(new RegExp(`^Usage: netlab ${args[0]} \\[options\\]`, 'm'));
  }
});

it("exec returns the shell's codes: 128 + signal, 127 not found, 126 not executable", async () => {
  expect((await sb.run([process.execPath, CLI, 'apply', '-'], { input: LAB })).exitCode).toBe(0);
  const run = (...argv: string[]) => sb.netlab('exec', 'a', '--', ...argv);
  expect((await run('sh', '-c', 'kill -SEGV $$')).exitCode).toBe(139);
  expect((await run('sh', '-c', 'kill -TERM $$')).exitCode).toBe(143);
  const notFound = await run('no-such-command');
  expect(notFound.exitCode).toBe(127);
  expect(notFound.stderr).toMatch(/no-such-command: command not found/);
  expect((await run('/etc/netns')).exitCode).toBe(126);
}, 30_000);

it('destroy of a name not applied says so and lists those that are; status of a lab whose nodes are gone exits 3', async () => {
  await sb.run([process.execPath, CLI, 'apply', '-'], { input: LAB });
  const typo = await sb.netlab('destroy', 'cli-lba');
  expect(typo.exitCode).toBe(0);
  expect(typo.stdout).toMatch(/Lab cli-lba is not applied: nothing to destroy \(applied: cli-lab; see netlab ls\)/);
  const typoJson = JSON.parse((await sb.netlab('destroy', '--json', 'cli-lba')).stdout) as Record<string, unknown>;
  expect(typoJson).toMatchObject({ format_version: 1, lab: 'cli-lba', applied: false, ok: true, removed: 0, applied_labs: ['cli-lab'] });

  // status shows run: processes, where their output goes, and the documented fields only.
  const status = await sb.netlab('status', 'cli-lab');
  expect(status.stdout).toMatch(/run running \(pid \d+\): exec sleep 3101 {2}\(output: \/run\/netlab\/cli-lab\/run\/a\.[^ ]+\.log\)/);
  const ls = JSON.parse((await sb.netlab('ls', '-o', 'json')).stdout) as { format_version: number; labs: Array<Record<string, unknown>> };
  expect(ls.format_version).toBe(1);
  expect(ls.labs).toEqual([{ lab: 'cli-lab', file: '<stdin>', updated: expect.any(String), nodes: { a: { netns: 'a', kind: 'netns' }, b: { netns: 'b', kind: 'netns' } } }]);
  expect((await sb.netlab('status', '-o', 'yaml', 'cli-lab')).stdout).toMatch(/^format_version: 1\nlabs:\n {2}- lab: cli-lab\n/);

  await sb.ok(['ip', 'netns', 'del', 'a']);
  await sb.ok(['ip', 'netns', 'del', 'b']);
  const gone = await sb.netlab('status', '--json', 'cli-lab');
  expect(gone.exitCode).toBe(3);
  const doc = JSON.parse(gone.stdout) as { format_version: number; labs: Array<{ missing: string[] }> };
  expect(doc.labs[0]!.missing).toEqual(['a', 'b']);
  expect((await sb.netlab('status', 'cli-lab')).stderr).toMatch(/none of its nodes exist any more \(missing: a, b\)/);

  const destroyed = JSON.parse((await sb.netlab('destroy', '-o', 'json', 'cli-lab')).stdout) as Record<string, unknown>;
  expect(destroyed).toMatchObject({ format_version: 1, lab: 'cli-lab', applied: true, ok: true });
  expect(await sb.leftovers()).toEqual([]);
}, 30_000);

it('validate --json says what is wrong, or what the lab holds', async () => {
  const bad = await sb.run([process.execPath, CLI, 'validate', '--json', '-'], { input: 'name: x\nnodes:\n  a: {kind: docker}\n' });
  expect(bad.exitCode).toBe(65);
  expect(JSON.parse(bad.stdout)).toMatchObject({ format_version: 1, valid: false, errors: [{ file: '<stdin>', line: 3, col: 13, severity: 'error' }] });
  const good = await sb.run([process.execPath, CLI, 'validate', '-o', 'json', '-'], { input: LAB });
  expect(JSON.parse(good.stdout)).toEqual({ format_version: 1, file: '<stdin>', valid: true, lab: 'cli-lab', nodes: 2, links: 1, variables: ['NET'], errors: [], warnings: [] });
});

it('export --json and -o yaml: the lab as data and as its text, with format_version', async () => {
  await sb.ok(['ip', 'netns', 'add', 'e1']);
  await sb.ok(['ip', '-n', 'e1', 'link', 'add', 'br0', 'type', 'bridge']);
  const exported = await sb.netlab('export', '--json', '--name', 'caught', 'e1');
  expect(exported.exitCode, exported.stderr).toBe(0);
  const doc = JSON.parse(exported.stdout) as { format_version: number; namespaces: string[]; valid: boolean; lab: { name: string; nodes: Record<string, { bridges?: object }> }; yaml: string };
  expect(doc).toMatchObject({ format_version: 1, namespaces: ['e1'], valid: true, errors: [] });
  expect(doc.lab.name).toBe('caught');
  expect(Object.keys(doc.lab.nodes.e1!.bridges ?? {})).toEqual(['br0']);
  expect(doc.yaml).toMatch(/^# Exported by netlab export/);
  expect((await sb.netlab('export', '-o', 'yaml', 'e1')).stdout).toMatch(/^format_version: 1\nnamespaces:\n {2}- e1\n/);
});

it('apply --json tells a conflict as data: each {node, netns, reason}, with the text on stderr; nothing is changed', async () => {
  await sb.ok(['ip', 'netns', 'add', 'a']);
  const reason = 'namespace a already exists and belongs to something other than netlab — delete it (ip netns del a) or give this lab a prefix';
  const refused = await sb.run([process.execPath, CLI, 'apply', '--json', '-'], { input: 'name: clash\nnodes:\n  a: {}\n  b: {}\nlinks: [[a:eth0, b:eth0]]\n' });
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toBe(
    `! conflict on a: ${reason}\n\nLab clash: 0 to create, 0 to change, 0 to delete.\n1 conflict(s): apply will refuse and change nothing.\n` +
      'error: apply refuses while something the lab would create belongs to someone else; nothing was changed.',
  );
  const lines = refused.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines).toEqual([
    { format_version: 1, event: 'summary', lab: 'clash', ok: false, error: { message: `conflict on a: ${reason}`, conflicts: [{ node: 'a', netns: 'a', reason }] } },
  ]);
  expect((await sb.ok(['ls', '/run/netns'])).trim()).toBe('a');
  await sb.ok(['ip', 'netns', 'del', 'a']);
  expect(await sb.leftovers()).toEqual([]);
});
