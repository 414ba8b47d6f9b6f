// Interface and bridge names that begin one of ip's keywords (`b` is `broadcast`, `d` is
// `dynamic`): ip reads such a bare word as the keyword, so every link netlab makes is named with
// `name`. Applied, traffic, a clean plan and destroy to nothing.
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = `name: short
nodes:
  p: {interfaces: {b: {addresses: [198.51.100.1/24]}}}
  q: {bridges: {d: {addresses: [198.51.100.2/24]}}}
links:
  - [p:b, q:d]
`;

describe('interface names that begin an ip keyword', () => {
  it('are made, pass traffic, plan clean and go with destroy', async () => {
    await sb.ok(['sh', '-c', 'cat > /run/short.yaml'], LAB);
    await sb.netlabOk('apply', '/run/short.yaml');
    const links = await sb.ipJson<Array<{ ifname: string }>>('p', ['link', 'show']);
    expect(links.map((l) => l.ifname)).toContain('b');
    expect(await sb.ping('p', '198.51.100.2')).toBe(true);
    expect((await sb.netlab('plan', '--detailed-exitcode', '/run/short.yaml')).exitCode).toBe(0);
    await sb.netlabOk('destroy', '/run/short.yaml');
    await sb.ok(['rm', '/run/short.yaml']);
    expect(await sb.leftovers()).toEqual([]);
  });
});
