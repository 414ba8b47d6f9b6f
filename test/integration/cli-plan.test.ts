// The plan before the change, saved plans, destroy --dry-run and --node, against a real kernel in
// a sandbox.
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));
const scratch = mkdtempSync(join(tmpdir(), 'netlab-cliplan-'));

function labFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

// A chain a - b - c - d; b reaches 203.0.113.0/24 through c, on the b - c link.
const CHAIN = `name: chain
nodes:
  a:
    interfaces: {e1: {addresses: [198.51.100.1/30]}}
  b:
    interfaces:
      e1: {addresses: [198.51.100.2/30]}
      e2: {addresses: [198.51.100.5/30]}
    routes: [{to: 203.0.113.0/24, via: 198.51.100.6}]
  c:
    interfaces:
      e1: {addresses: [198.51.100.6/30]}
      e2: {addresses: [198.51.100.9/30]}
  d:
    interfaces: {e1: {addresses: [198.51.100.10/30]}}
links:
  - [a:e1, b:e1]
  - [b:e2, c:e1]
  - [c:e2, d:e1]
`;

/** stdout and stderr of a netlab run, in the order written, as a pipe into another program sees them. */
async function piped(...args: string[]): Promise<{ exitCode: number; text: string }> {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const r = await sb.run(['sh', '-c', `'${process.execPath}' '${CLI}' ${quoted} 2>&1 | cat`]);
  return { exitCode: r.exitCode, text: r.stdout };
}

async function namespaces(): Promise<string[]> {
  return (await sb.ok(['ls', '/run/netns'])).split('\n').filter(Boolean).sort();
}

function record(lab: string): Promise<string> {
  return sb.ok(['cat', `/run/netlab/${lab}/record.json`]);
}

describe('apply: the plan first, then the run, then the summary', () => {
  it('prints the plan before the first kernel command, and the summary last, into a pipe', async () => {
    const file = labFile('chain.yaml', CHAIN);
    const { text } = await piped('apply', '-v', file);
    const plan = text.indexOf('+ netns a');
    const firstCommand = text.search(/^ {2}\[(root|a|b|c|d)\] /m);
    const summary = text.indexOf('Applied lab chain:');
    expect(plan, text).toBeGreaterThanOrEqual(0);
    expect(firstCommand, text).toBeGreaterThan(plan);
    expect(text.indexOf('Lab chain: ', plan), text).toBeLessThan(firstCommand); // the whole plan, with its counts
    expect(summary, text).toBeGreaterThan(firstCommand);
  });

  it('prints the plan before a run that fails half way', async () => {
    const file = labFile('bad.yaml', 'name: halfway\nnodes:\n  a:\n    sysctls: {net.ipv4.no_such_key: 1}\n  b: {}\nlinks:\n  - [a:eth0, b:eth0]\n');
    const { text } = await piped('apply', '-v', file);
    const plan = text.indexOf('+ sysctl on a: net.ipv4.no_such_key = 1');
    const firstCommand = text.search(/^ {2}\[(root|a|b)\] /m);
    const failure = text.indexOf('error: 1 change(s) failed');
    expect(plan, text).toBeGreaterThanOrEqual(0);
    expect(firstCommand, text).toBeGreaterThan(plan);
    expect(failure, text).toBeGreaterThan(firstCommand);
  });

  it('--quiet prints the summary alone', async () => {
    const r = await sb.netlabOk('apply', '--quiet', labFile('quiet.yaml', CHAIN));
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^Applied lab chain: 24 created, 0 changed, 0 deleted in \d+ round\(s\), [\d.]+ s; verified against the kernel\.$/)]);
  });
});

describe('saved plans: plan --out, then apply PLAN', () => {
  it('applies exactly the saved plan', async () => {
    const file = labFile('saved.yaml', CHAIN);
    const planPath = join(scratch, 'saved.plan');
    const planned = await sb.netlabOk('plan', '--out', planPath, file);
    expect(planned.stdout).toMatch(/Saved the plan to .*saved\.plan/);
    const saved = JSON.parse(readFileSync(planPath, 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ format: 'netlab-plan', format_version: 1, lab: 'chain', file, content: CHAIN });
    expect(await namespaces()).toEqual([]); // planning changes nothing

    const applied = await sb.netlabOk('apply', planPath);
    expect(applied.stdout).toMatch(/\+ netns a/);
    expect(applied.stdout).toMatch(/Applied lab chain: 24 created/);
    expect(await namespaces()).toEqual(['a', 'b', 'c', 'd']);
    expect(await sb.ping('a', '198.51.100.2')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
  });

  it('keeps the --node selection it was made with', async () => {
    const file = labFile('saved-nodes.yaml', CHAIN);
    const planPath = join(scratch, 'saved-nodes.plan');
    await sb.netlabOk('plan', '--node', 'a', '--node', 'b', '--out', planPath, file);
    const refused = await sb.netlab('apply', '--node', 'a', planPath);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim()).toMatch(/is a saved plan and applies the nodes it was made for — give no --node$/);
    const applied = await sb.netlabOk('apply', planPath);
    expect(applied.stdout).toMatch(/left out: 2 node\(s\) \(c, d\)/);
    expect(await namespaces()).toEqual(['a', 'b']);
  });

  it('refuses a plan the kernel has moved on from, and changes nothing', async () => {
    const file = labFile('stale-kernel.yaml', CHAIN);
    await sb.netlabOk('apply', file);
    await sb.ok(['nsenter', '--net=/run/netns/a', 'ip', 'addr', 'del', '198.51.100.1/30', 'dev', 'e1']);
    const planPath = join(scratch, 'stale-kernel.plan');
    await sb.netlabOk('plan', '--out', planPath, file);
    // Changed by hand after the plan was made.
    await sb.ok(['nsenter', '--net=/run/netns/c', 'ip', 'addr', 'add', '192.0.2.77/32', 'dev', 'e1']);
    const before = await record('chain');

    const r = await sb.netlab('apply', planPath);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: the plan is stale: the kernel changed since it was made \(node c read differently\); make a new one with netlab plan --out .*stale-kernel\.plan .*stale-kernel\.yaml$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // Nothing touched: the address the plan would add is still missing, the one added by hand is still there.
    const aAddrs = (await sb.ipJson('a', ['addr', 'show', 'dev', 'e1']))[0]!.addr_info as Array<{ local: string }>;
    expect(aAddrs.map((x) => x.local)).not.toContain('198.51.100.1');
    const cAddrs = (await sb.ipJson('c', ['addr', 'show', 'dev', 'e1']))[0]!.addr_info as Array<{ local: string }>;
    expect(cAddrs.map((x) => x.local)).toContain('192.0.2.77');
    expect(await record('chain')).toBe(before);
  });

  it('refuses a plan whose file has changed, and changes nothing', async () => {
    const file = labFile('stale-file.yaml', CHAIN);
    const planPath = join(scratch, 'stale-file.plan');
    await sb.netlabOk('plan', '--out', planPath, file);
    appendFileSync(file, '# edited after the plan\n');
    const r = await sb.netlab('apply', planPath);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/^error: the plan is stale: the file changed since it was made \(.*stale-file\.yaml\)/);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('destroy --dry-run lists what destroy would remove and changes nothing', async () => {
    const file = labFile('dry.yaml', CHAIN);
    await sb.netlabOk('apply', file);
    const before = await record('chain');
    for (const target of ['chain', file]) {
      const r = await sb.netlabOk('destroy', '--dry-run', target);
      for (const node of ['a', 'b', 'c', 'd']) expect(r.stdout).toMatch(new RegExp(`^- netns ${node} `, 'm'));
      expect(r.stdout).toMatch(/Lab chain: 0 to create, 0 to change, 4 to delete\./);
      expect(r.stdout).toMatch(/Dry run: .*nothing was changed/);
    }
    expect(await namespaces()).toEqual(['a', 'b', 'c', 'd']);
    expect(await record('chain')).toBe(before);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    expect((await sb.netlabOk('destroy', '--dry-run', '--node', 'b', 'chain')).stdout).toMatch(/^- netns b .*\n\nLab chain: 0 to create, 0 to change, 1 to delete\./m);
  });
});

describe('--node: some nodes and the links between them', () => {
  it('applies a and b alone, plans the rest, and destroys a alone', async () => {
    const file = labFile('target.yaml', CHAIN);
    const applied = await sb.netlabOk('apply', '--node', 'a', '--node', 'b', file);
    expect(applied.stdout).toContain('left out: 2 node(s) (c, d) and 2 link(s), 1 of them to a selected node (b:e2 <-> c:e1); run without --node for the whole lab');
    expect(await namespaces()).toEqual(['a', 'b']);
    expect(await sb.ping('a', '198.51.100.2')).toBe(true);
    // b's end of the link to c, and the route through it, are left for the whole lab.
    expect((await sb.ipJson('b', ['link', 'show'])).map((l) => l.ifname).sort()).toEqual(['e1', 'lo']);
    expect(Object.keys((JSON.parse(await record('chain')) as { nodes: object }).nodes).sort()).toEqual(['a', 'b']);
    expect((await sb.netlab('plan', '--detailed-exitcode', '--node', 'a', '--node', 'b', file)).exitCode).toBe(0);

    const rest = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(rest.exitCode).toBe(2);
    expect(rest.stdout).toMatch(/^\+ netns c /m);
    expect(rest.stdout).toMatch(/^\+ netns d /m);
    expect(rest.stdout).toMatch(/^\+ veth b:e2 <-> c:e1 /m);
    expect(rest.stdout).toMatch(/^\+ route on b: 203\.0\.113\.0\/24 via 198\.51\.100\.6/m);
    expect(rest.stdout).not.toMatch(/netns [ab] |veth a:e1|address 198\.51\.100\.[12]\//);

    await sb.netlabOk('apply', file);
    // The whole lab in place, a narrowed plan and status see no difference and no drift in what is left out.
    expect((await sb.netlab('plan', '--detailed-exitcode', '--node', 'b', file)).exitCode).toBe(0);
    const status = JSON.parse((await sb.netlabOk('status', '--json', '--node', 'b', 'chain')).stdout) as { labs: Array<{ nodes: Array<{ node: string }> }> };
    expect(status.labs[0]!.nodes.map((n) => n.node)).toEqual(['b']);

    const destroyed = await sb.netlabOk('destroy', '--node', 'a', 'chain');
    expect(destroyed.stdout).toMatch(/Destroyed node\(s\) a of lab chain/);
    expect(await namespaces()).toEqual(['b', 'c', 'd']);
    expect(Object.keys((JSON.parse(await record('chain')) as { nodes: object }).nodes).sort()).toEqual(['b', 'c', 'd']);
    expect(await sb.ping('b', '198.51.100.6')).toBe(true);
    const again = await sb.netlab('plan', '--detailed-exitcode', file);
    expect(again.exitCode).toBe(2);
    expect(again.stdout).toMatch(/^\+ netns a /m);
    expect(again.stdout).not.toMatch(/netns [bcd] /);

    await sb.netlabOk('destroy', 'chain');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('narrows a lab with a kind: host bridge, and the record keeps the root namespace\'s share right', async () => {
    const file = labFile('hosted.yaml', `name: hosted
nodes:
  root:
    kind: host
    bridges: {nlbr0: {addresses: [192.0.2.1/24]}}
  c1:
    interfaces: {eth0: {addresses: [192.0.2.11/24]}}
    routes: [{to: default, via: 192.0.2.1}]
  c2:
    interfaces: {eth0: {addresses: [192.0.2.12/24]}}
links:
  - [c1:eth0, root:nlbr0]
  - [c2:eth0, root:nlbr0]
`);
    await sb.netlabOk('apply', '--node', 'root', '--node', 'c1', file);
    expect(await namespaces()).toEqual(['c1']);
    expect(await sb.ping('c1', '192.0.2.1')).toBe(true);
    await sb.netlabOk('apply', file);
    expect(await sb.ping('c2', '192.0.2.11')).toBe(true);
    // The root namespace alone: its ports for c1 and c2 are left out, not taken for drift.
    expect((await sb.netlabOk('apply', '--node', 'root', file)).stdout).toMatch(/no changes, nothing written/);

    await sb.netlabOk('destroy', '--node', 'c1', 'hosted');
    expect(await namespaces()).toEqual(['c2']);
    expect(await sb.ping('c2', '192.0.2.1')).toBe(true);
    const again = await sb.netlab('plan', file);
    expect(again.stdout).toMatch(/^\+ netns c1 /m);
    expect(again.stdout).toMatch(/Lab hosted: \d+ to create, 0 to change, 0 to delete\./);

    await sb.netlabOk('destroy', 'hosted');
    expect(await sb.leftovers()).toEqual([]);
  });

  it('names an unknown node with the nodes there are', async () => {
    const r = await sb.netlab('plan', '--node', 'x', labFile('unknown.yaml', CHAIN));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toBe('error: --node x: no such node in lab chain (its nodes: a, b, c, d)');
  });
});
