// netlab capture: tcpdump inside a node, decoded lines or a pcap, and no tcpdump left behind
// after Ctrl-C or after netlab itself is killed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, type Sandbox, TOPOLOGIES, useSandbox } from '../helpers/sandbox.js';

let sb: Sandbox;
useSandbox((s) => (sb = s));

const LAB = join(TOPOLOGIES, 'seed-001-nat.yaml');

/** Starts `netlab capture ARGS` in the background inside the sandbox; its pid, output in /run/capture.{out,err}. */
async function startCapture(...args: string[]): Promise<string> {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const pid = (await sb.ok(['sh', '-c', `${process.execPath} ${CLI} capture ${quoted} >/run/capture.out 2>/run/capture.err & echo $!`])).trim();
  // Bound to the interface: tcpdump says so once it listens.
  await sb.ok(['sh', '-c', 'for i in $(seq 100); do grep -q "listening on" /run/capture.err 2>/dev/null && exit 0; sleep 0.05; done; cat /run/capture.err; exit 1']);
  return pid;
}

/** Living tcpdump processes (zombies are dead: nothing reaps them in the sandbox). */
async function tcpdumps(): Promise<string> {
  return (await sb.run(['pgrep', '-a', '-r', 'RSD', 'tcpdump'])).stdout.trim();
}

/** Ended: gone, or a zombie (the sandbox's PID 1 is a sleep, which reaps no orphan). */
async function gone(pid: string): Promise<void> {
  await sb.ok(['sh', '-c', `for i in $(seq 100); do s=$(awk '/^State:/ {print $2}' /proc/${pid}/status 2>/dev/null); [ -z "$s" ] || [ "$s" = Z ] && exit 0; sleep 0.05; done; exit 1`]);
}

describe('netlab capture', () => {
  it('prints the decoded packets on a node interface: the masqueraded ping as the internet side sees it', async () => {
    await sb.netlabOk('apply', LAB);
    const capture = sb.netlab('capture', 'seed-001-nat', 'host:eth0', '--filter', 'icmp', '--count', '2');
    await sb.ok(['sh', '-c', 'sleep 0.5; nsenter --net=/run/netns/netns0 ping -c 3 -i 0.3 -w 5 198.51.100.1 >/dev/null']);
    const r = await capture;
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/IP 198\.51\.100\.100 > 198\.51\.100\.1: ICMP echo request/);
    expect(lines[1]).toMatch(/IP 198\.51\.100\.1 > 198\.51\.100\.100: ICMP echo reply/);
  });

  it('writes a pcap file', async () => {
    await sb.netlabOk('apply', LAB);
    const capture = sb.netlab('capture', 'seed-001-nat', 'internet:eth0', '--filter', 'icmp', '--count', '1', '--write', '/run/x.pcap');
    await sb.ok(['sh', '-c', 'sleep 0.5; nsenter --net=/run/netns/netns0 ping -c 2 -w 5 198.51.100.1 >/dev/null']);
    expect((await capture).exitCode).toBe(0);
    // The pcap magic, little-endian, as tcpdump writes on x86.
    expect((await sb.ok(['od', '-A', 'n', '-N', '4', '-t', 'x1', '/run/x.pcap'])).trim()).toBe('d4 c3 b2 a1');
  });

  it('says which interface is wrong', async () => {
    await sb.netlabOk('apply', LAB);
    const r = await sb.netlab('capture', 'seed-001-nat', 'host:eth9');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('error: node host has no interface eth9 (see netlab status seed-001-nat --node host)\n'.trimEnd());
  });

  it('Ctrl-C stops it cleanly (exit 0, the packets counted) and leaves no tcpdump', async () => {
    await sb.netlabOk('apply', LAB);
    const pid = await startCapture('seed-001-nat', 'host:eth0');
    expect(await tcpdumps()).toContain('tcpdump -i eth0');
    await sb.ok(['kill', '-INT', pid]);
    await gone(pid);
    expect(await sb.ok(['cat', '/run/capture.err'])).toContain('packets captured');
    expect(await tcpdumps()).toBe('');
  });

  it('no tcpdump outlives a netlab that is killed outright', async () => {
    await sb.netlabOk('apply', LAB);
    const pid = await startCapture('seed-001-nat', 'host:eth0');
    expect(await tcpdumps()).toContain('tcpdump -i eth0');
    await sb.ok(['kill', '-KILL', pid]);
    await gone(pid);
    await sb.ok(['sh', '-c', 'for i in $(seq 40); do [ -z "$(pgrep -r RSD tcpdump)" ] && exit 0; sleep 0.05; done; exit 1']);
    expect(await tcpdumps()).toBe('');
  });
});
