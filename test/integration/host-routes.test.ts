// Host routes (/32, /128) against a real kernel: `ip -j route` prints their destination without a
// length, and netlab must still read them back as the routes the file asks for.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const HOST_ROUTES = `name: hostroutes
nodes:
  a:
    interfaces:
      eth0: {addresses: [198.51.100.1/24, "2001:db8:1::1/64"]}
    routes:
      - {to: 10.9.9.9/32, dev: eth0}
      - {to: "2001:db8:9::9/128", dev: eth0}
  b:
    interfaces:
      eth0: {addresses: [198.51.100.2/24, "2001:db8:1::2/64"]}
links:
  - [a:eth0, b:eth0]
`;

describe('host routes', () => {
  it('apply makes a /32 and a /128 route, reads them back, plans clean and destroys to nothing', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netlab-hostroutes-')), 'hostroutes.yaml');
    writeFileSync(file, HOST_ROUTES);
    const applied = await sb.netlab('apply', file);
    expect(applied.stderr).not.toMatch(/still differs/);
    expect(applied.exitCode).toBe(0);
    expect((await sb.netlab('plan', '--detailed-exitcode', file)).exitCode).toBe(0);
    const v4 = await sb.ipJson<Array<{ dst: string; dev: string; protocol: string }>>('a', ['route', 'show', '10.9.9.9/32']);
    expect(v4).toEqual([expect.objectContaining({ dst: '10.9.9.9', dev: 'eth0', protocol: '77' })]);
    const v6 = await sb.ipJson<Array<{ dst: string; dev: string; protocol: string }>>('a', ['-6', 'route', 'show', '2001:db8:9::9/128']);
    expect(v6).toEqual([expect.objectContaining({ dst: '2001:db8:9::9', dev: 'eth0', protocol: '77' })]);
    expect((await sb.netlab('destroy', file)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });
});
