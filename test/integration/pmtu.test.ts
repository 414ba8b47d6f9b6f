// The PMTU black hole lab against a real kernel: a 20000-byte download through a 1400-byte link
// stalls while the provider's router drops its "fragmentation needed", and completes with either
// fix: r clamping the MSS of the SYNs it sends onward (the lab as shipped), or the provider letting
// ICMP type 3 code 4 out. The rules read back from `nft -j`: plan is clean, a clamp rule changed by
// hand is drift that apply repairs.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const scratch = mkdtempSync(join(tmpdir(), 'netlab-pmtu-'));
const SHIPPED = readFileSync(join(TOPOLOGIES, 'pmtu-black-hole.yaml'), 'utf8');
const CLAMP = '- {out: wan, proto: tcp, flags: [syn, "!rst"], action: clamp-mss}';
const ECHO_REPLY = '- {proto: icmp, icmp: echo-reply, action: accept}';
const TABLE = 'netlab-pmtu-black-hole';
const TABLE6 = 'netlab-pmtu6';

function variant(name: string, edit: (text: string) => string): string {
  const text = edit(SHIPPED);
  expect(text).not.toBe(SHIPPED);
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

/** r accepts SYNs onward instead of clamping them: nothing fixes the black hole. */
const broken = (text: string) => text.replace(CLAMP, '- {out: wan, proto: tcp, flags: [syn, "!rst"], action: accept}');
/** Without the clamp, isp lets "fragmentation needed" out before it drops the other ICMP. */
const icmpAllowed = (text: string) => broken(text).replace(ECHO_REPLY, `- {proto: icmp, icmp: destination-unreachable, code: frag-needed, action: accept}\n          ${ECHO_REPLY}`);

/** The server sends 20000 bytes to each connection, as the lab's comment suggests. */
async function serve(): Promise<void> {
  const started = await sb.inNs('server', ['sh', '-c', "setsid socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:'head -c 20000 /dev/zero' </dev/null >/dev/null 2>&1 &"]);
  expect(started.exitCode).toBe(0);
  for (let i = 0; i < 50; i++) {
    const listening = await sb.inNs('server', ['ss', '-Htln', 'sport', '= :8080']);
    if (listening.stdout.trim() !== '') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not listen on 8080');
}

/** Bytes of the server's 20000-byte answer the client read before 2 s without progress. */
async function downloaded(): Promise<number> {
  const r = await sb.inNs('client', ['sh', '-c', 'timeout 5 socat -T 2 -u TCP:203.0.113.10:8080,connect-timeout=2 - | wc -c']);
  return Number(r.stdout.trim());
}

/** What a don't-fragment ping from the server learns of the path's MTU: isp says it, or the kernel knows it already. */
async function serverHearsMtu(): Promise<string> {
  const r = await sb.inNs('server', ['ping', '-n', '-c', '1', '-W', '1', '-M', 'do', '-s', '1472', '192.168.1.10']);
  return /mtu ?=? ?\d+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? '';
}

interface NftRule {
  rule?: { chain: string; handle: number; comment?: string; expr: unknown[] };
}

async function rules(node: string, table = TABLE): Promise<Array<NonNullable<NftRule['rule']>>> {
  const r = await sb.inNs(node, ['nft', '-j', 'list', 'table', 'inet', table]);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { nftables: NftRule[] }).nftables.flatMap((o) => (o.rule ? [o.rule] : []));
}

describe('a PMTU black hole and its fixes', () => {
  it('stalls a download without a fix; the MSS clamp or the ICMP let out each make it complete', async () => {
    const brokenFile = variant('broken.yaml', broken);
    const icmpFile = variant('icmp-allowed.yaml', icmpAllowed);
    const shipped = join(scratch, 'pmtu-black-hole.yaml');
    writeFileSync(shipped, SHIPPED);

    // No fix: the handshake passes, the first full-size segment never arrives.
    let applied = await sb.netlab('apply', brokenFile);
    expect(applied.exitCode, applied.stderr).toBe(0);
    await serve();
    expect(await downloaded()).toBeLessThan(20000);
    expect(await serverHearsMtu()).toBe('');
    expect((await sb.netlab('plan', '--detailed-exitcode', brokenFile)).exitCode).toBe(0);

    // The lab as shipped: r clamps the SYN's MSS to the 1400 route, and the download completes.
    applied = await sb.netlab('apply', shipped);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(await downloaded()).toBe(20000);
    const clamp = (await rules('r')).find((r) => r.chain === 'forward')!;
    expect(clamp.expr).toEqual([
      { match: { op: '==', left: { meta: { key: 'oifname' } }, right: 'wan' } },
      { match: { op: '==', left: { '&': [{ payload: { protocol: 'tcp', field: 'flags' } }, ['syn', 'rst']] }, right: 'syn' } },
      { mangle: { key: { 'tcp option': { name: 'maxseg', field: 'size' } }, value: { rt: { key: 'mtu' } } } },
    ]);
    expect((await rules('isp')).map((r) => r.expr[0])).toEqual([
      { match: { op: '==', left: { payload: { protocol: 'icmp', field: 'type' } }, right: 'echo-reply' } },
      { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'icmp' } },
    ]);
    const tested = await sb.netlab('test', '--timeout', '1', shipped);
    expect(tested.exitCode, `${tested.stdout}\n${tested.stderr}`).toBe(0);
    expect((await sb.netlab('plan', '--detailed-exitcode', shipped)).exitCode).toBe(0);

    // The clamp rule changed by hand (same comment, now an accept): plan sees it, apply repairs it.
    const edited = await sb.inNs('r', ['nft', 'replace', 'rule', 'inet', TABLE, 'forward', 'handle', String(clamp.handle), 'oifname', 'wan', 'accept', 'comment', `"${clamp.comment!}"`]);
    expect(edited.exitCode, edited.stderr).toBe(0);
    const drift = await sb.netlab('plan', '--detailed-exitcode', shipped);
    expect(drift.exitCode).toBe(2);
    expect(drift.stdout).toMatch(/rule in forward: oifname "wan" tcp flags & \(syn \| rst\) == syn tcp option maxseg size set rt mtu.*rule changed by hand/);
    applied = await sb.netlab('apply', shipped);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect((await sb.netlab('plan', '--detailed-exitcode', shipped)).exitCode).toBe(0);
    expect((await rules('r')).find((r) => r.chain === 'forward')!.expr).toEqual(clamp.expr);

    // The other fix: no clamp, but isp lets "fragmentation needed" out, so the server learns the
    // path's MTU from its first lost segment and sends smaller ones.
    applied = await sb.netlab('apply', icmpFile);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect((await rules('isp'))[0]!.expr.slice(0, 2)).toEqual([
      { match: { op: '==', left: { payload: { protocol: 'icmp', field: 'type' } }, right: 'destination-unreachable' } },
      { match: { op: '==', left: { payload: { protocol: 'icmp', field: 'code' } }, right: 'frag-needed' } },
    ]);
    expect(await downloaded()).toBe(20000);
    expect(await serverHearsMtu()).toMatch(/mtu ?=? ?1400/);
    expect((await sb.netlab('plan', '--detailed-exitcode', icmpFile)).exitCode).toBe(0);

    expect((await sb.netlab('destroy', shipped)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });

  it('IPv6: a router that drops its packet-too-big leaves a silence; letting it out, the sender hears mtu 1400', async () => {
    const lab = (output: string) => `name: pmtu6
nodes:
  a:
    interfaces:
      eth0: {addresses: ["2001:db8:a::10/64"]}
    routes: [{to: "::/0", via: "2001:db8:a::1"}]
  r:
    sysctls: {net.ipv6.conf.all.forwarding: 1}
    interfaces:
      left: {addresses: ["2001:db8:a::1/64"]}
      right: {addresses: ["2001:db8:b::1/64"]}
    firewall:
      output:
        rules:
${output}
  b:
    interfaces:
      eth0: {addresses: ["2001:db8:b::10/64"]}
    routes: [{to: "::/0", via: "2001:db8:b::1"}]
links:
  - [a:eth0, r:left]
  - endpoints: [r:right, b:eth0]
    mtu: 1400
tests:
  - {from: a, ping: b, size: 1452, df: true, expect: fail}
`;
    const dropped = join(scratch, 'pmtu6-dropped.yaml');
    writeFileSync(dropped, lab('          - {proto: icmpv6, icmp: packet-too-big, action: drop}'));
    const allowed = join(scratch, 'pmtu6-allowed.yaml');
    writeFileSync(allowed, lab('          - {proto: icmpv6, icmp: packet-too-big, action: accept}\n          - {proto: icmpv6, icmp: echo-request, action: drop}'));
    const why = async (file: string) => {
      const r = await sb.netlab('test', '--json', '--timeout', '1', file);
      return (JSON.parse(r.stdout) as { results: Array<{ why: string; passed: boolean }> }).results[0]!;
    };

    let applied = await sb.netlab('apply', dropped);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(await why(dropped)).toMatchObject({ passed: true, why: '100% packet loss' });
    const [rule] = (await rules('r', TABLE6)).filter((r) => r.chain === 'output');
    expect(rule!.expr[0]).toEqual({ match: { op: '==', left: { payload: { protocol: 'icmpv6', field: 'type' } }, right: 'packet-too-big' } });
    expect((await sb.netlab('plan', '--detailed-exitcode', dropped)).exitCode).toBe(0);

    applied = await sb.netlab('apply', allowed);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect((await why(allowed)).why).toMatch(/^100% packet loss \(too big: (2001:db8:a::1 says )?the path's mtu is 1400\)$/);
    expect((await sb.netlab('plan', '--detailed-exitcode', allowed)).exitCode).toBe(0);
    expect((await sb.netlab('destroy', allowed)).exitCode).toBe(0);
    expect(await sb.leftovers()).toEqual([]);
  });
});
