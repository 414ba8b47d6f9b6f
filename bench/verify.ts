// A fast build that does not work is not a result: after every "up" the lab's namespaces must all
// exist and a ping must cross it; after every "down" nothing may be left in the sandbox.
import type { Lab } from './labs.js';
import type { Sandbox } from './sandbox.js';

export class BenchFailure extends Error {}

async function namespaces(sb: Sandbox): Promise<string[]> {
  return (await sb.sh('ls -A /run/netns')).split('\n').filter(Boolean);
}

export async function expectUp(sb: Sandbox, lab: Lab, who: string): Promise<void> {
  const have = new Set(await namespaces(sb));
  const missing = lab.nodes.map((n) => n.name).filter((n) => !have.has(n));
  if (have.size !== lab.nodes.length || missing.length) {
    throw new BenchFailure(
      `${who} on ${lab.id}: ${have.size} namespaces, expected ${lab.nodes.length}` + (missing.length ? ` (missing: ${missing.slice(0, 10).join(' ')}${missing.length > 10 ? ' …' : ''})` : ''),
    );
  }
  const { from, to } = lab.ping;
  // -w: one echo per second until one is answered. A veth passes traffic only once the kernel's
  // link watcher has seen its carrier, which a script that has just run `up` does not wait for.
  const r = await sb.run(['nsenter', `--net=/run/netns/${from}`, 'ping', '-c', '1', '-w', '5', to], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    const diag = await sb.run(['nsenter', `--net=/run/netns/${from}`, 'sh', '-c', 'ip -br addr; ip route'], { timeoutMs: 30_000 });
    throw new BenchFailure(`${who} on ${lab.id}: ping from ${from} to ${to} failed:\n${r.stdout}${r.stderr}\n${from}:\n${diag.stdout}`);
  }
}

/** Nothing left: no namespace, no /etc/netns entry, no netlab record, no link but lo in the sandbox root. */
export async function expectDown(sb: Sandbox, lab: Lab, who: string): Promise<void> {
  const left: string[] = [];
  const ns = await namespaces(sb);
  if (ns.length) left.push(`${ns.length} namespaces (${ns.slice(0, 10).join(' ')}${ns.length > 10 ? ' …' : ''})`);
  const etc = (await sb.sh('ls -A /etc/netns')).trim();
  if (etc) left.push(`/etc/netns: ${etc.split('\n').join(' ')}`);
  const records = (await sb.sh('ls -A /run/netlab 2>/dev/null || true')).trim();
  if (records) left.push(`/run/netlab: ${records.split('\n').join(' ')}`);
  const links = (await sb.sh("ip -o link show | awk -F': ' '{print $2}'")).split('\n').filter((l) => l && l !== 'lo');
  if (links.length) left.push(`links in the sandbox root: ${links.slice(0, 10).join(' ')}`);
  if (left.length) throw new BenchFailure(`${who} on ${lab.id} left things behind: ${left.join('; ')}`);
}
