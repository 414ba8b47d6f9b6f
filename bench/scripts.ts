// The two baselines as plain files a person can read and run by hand inside a sandbox:
//  - seed-style: one `ip` process per step, as the seeds' walkthroughs type it;
//  - the floor: one `ip -batch` for the root side, then one `nsenter --net=… ip -batch` per
//    namespace, a few at a time (xargs -P), and one `ip -batch` of `netns del` to tear down.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridgePort, toYaml, type Lab, type LabNode } from './labs.js';

export interface LabFiles {
  yaml: string;
  seedUp: string;
  seedDown: string;
  floorUp: string;
  floorDown: string;
  /** The floor with `addrgenmode none` before each link comes up, as netlab does for a lab without IPv6. */
  quietUp: string;
}

const sysctlPath = (key: string) => `/proc/sys/${key.replaceAll('.', '/')}`;

/** Every interface a node ends up with, bridge ports included, and the bridge each is enslaved to. */
function ports(lab: Lab, nodeName: string): Array<{ name: string; master: string }> {
  return lab.links.flatMap((l) => (l.b.node === nodeName && 'bridge' in l.b ? [{ name: bridgePort(l), master: l.b.bridge }] : []));
}

export function seedUp(lab: Lab): string[] {
  const out: string[] = [];
  for (const n of lab.nodes) {
    out.push(`ip netns add ${n.name}`, `ip -n ${n.name} link set lo up`);
    for (const b of n.bridges) {
      out.push(`ip -n ${n.name} link add ${b.name} type bridge`, `ip -n ${n.name} addr add ${b.address} dev ${b.name}`, `ip -n ${n.name} link set ${b.name} up`);
    }
  }
  // A veth pair is made in the root namespace under temporary names (two eth0 cannot coexist
  // there), each end moved to its namespace, then renamed: the seeds' walkthrough, step by step.
  for (const l of lab.links) {
    const ta = `${l.a.node}-${l.a.iface}`;
    const tb = 'bridge' in l.b ? bridgePort(l) : `${l.b.node}-${l.b.iface}`;
    out.push(`ip link add ${ta} type veth peer name ${tb}`, `ip link set ${ta} netns ${l.a.node}`, `ip link set ${tb} netns ${l.b.node}`);
    out.push(`ip -n ${l.a.node} link set ${ta} name ${l.a.iface}`);
    if ('bridge' in l.b) out.push(`ip -n ${l.b.node} link set ${tb} master ${l.b.bridge}`, `ip -n ${l.b.node} link set ${tb} up`);
    else out.push(`ip -n ${l.b.node} link set ${tb} name ${l.b.iface}`);
  }
  for (const n of lab.nodes) {
    for (const [key, value] of Object.entries(n.sysctls)) out.push(`ip netns exec ${n.name} sysctl -qw ${key}=${value}`);
    for (const i of n.ifaces) out.push(`ip -n ${n.name} addr add ${i.address} dev ${i.name}`, `ip -n ${n.name} link set ${i.name} up`);
    for (const r of n.routes) out.push(`ip -n ${n.name} route add ${r.to} via ${r.via}`);
  }
  return out;
}

export function seedDown(lab: Lab): string[] {
  return lab.nodes.map((n) => `ip netns del ${n.name}`);
}

/** Root side: every namespace, then every veth made directly with its ends in their namespaces. */
export function floorRoot(lab: Lab): string[] {
  const out = lab.nodes.map((n) => `netns add ${n.name}`);
  for (const l of lab.links) {
    const b = 'bridge' in l.b ? bridgePort(l) : l.b.iface;
    out.push(`link add ${l.a.iface} netns ${l.a.node} type veth peer name ${b} netns ${l.b.node}`);
  }
  return out;
}

/**
 * Inside one namespace: lo, bridges, addresses, ports, up, routes — one batch. `quiet`: no IPv6
 * link-local address on any link (addrgenmode none before it is up), so no DAD, router or MLD
 * solicitations for the bridge to flood.
 */
export function floorNode(lab: Lab, n: LabNode, quiet = false): string[] {
  const off = (dev: string) => (quiet ? [`link set ${dev} addrgenmode none`] : []);
  const out = ['link set lo up'];
  for (const b of n.bridges) out.push(`link add ${b.name} type bridge`, ...off(b.name), `addr add ${b.address} dev ${b.name}`, `link set ${b.name} up`);
  for (const p of ports(lab, n.name)) out.push(...off(p.name), `link set ${p.name} master ${p.master}`, `link set ${p.name} up`);
  for (const i of n.ifaces) out.push(...off(i.name), `addr add ${i.address} dev ${i.name}`, `link set ${i.name} up`);
  for (const r of n.routes) out.push(`route add ${r.to} via ${r.via}`);
  return out;
}

export function floorDown(lab: Lab): string[] {
  return lab.nodes.map((n) => `netns del ${n.name}`);
}

const text = (lines: string[]) => lines.join('\n') + '\n';

/** Writes the lab's YAML and the baselines' scripts into dir; paths are absolute. */
export function writeLabFiles(lab: Lab, dir: string, floorJobs: number): LabFiles {
  const path = (name: string) => join(dir, name);
  const files: LabFiles = {
    yaml: path(`${lab.name}.yaml`),
    seedUp: path('seed-up.sh'),
    seedDown: path('seed-down.sh'),
    floorUp: path('floor-up.sh'),
    floorDown: path('floor-down.sh'),
    quietUp: path('floor-quiet-up.sh'),
  };
  writeFileSync(files.yaml, toYaml(lab));
  writeFileSync(files.seedUp, text([`# seed-style: one ip process per step (${lab.id})`, 'set -e', ...seedUp(lab)]));
  writeFileSync(files.seedDown, text(['set -e', ...seedDown(lab)]));

  writeFileSync(path('floor-root.batch'), text(floorRoot(lab)));
  for (const quiet of [false, true]) {
    const name = quiet ? 'floor-quiet' : 'floor';
    // One line of nsenter arguments per namespace, biggest batch first (the hub's) so the others
    // overlap it. A namespace with sysctls goes through sh to write them before exec'ing ip.
    const byWork = [...lab.nodes].sort((x, y) => floorNode(lab, y).length - floorNode(lab, x).length);
    const list = byWork.map((n) => {
      const batch = path(`${name}-${n.name}.batch`);
      writeFileSync(batch, text(floorNode(lab, n, quiet)));
      const sysctls = Object.entries(n.sysctls);
      if (!sysctls.length) return `--net=/run/netns/${n.name} ip -batch ${batch}`;
      const sh = path(`${name}-${n.name}.sh`);
      writeFileSync(sh, text([...sysctls.map(([k, v]) => `echo ${v} > ${sysctlPath(k)}`), `exec ip -batch ${batch}`]));
      return `--net=/run/netns/${n.name} sh -e ${sh}`;
    });
    writeFileSync(path(`${name}-ns.list`), text(list));
    writeFileSync(
      quiet ? files.quietUp : files.floorUp,
      text([
        `# the floor (${lab.id})${quiet ? ', no IPv6 link-local' : ''}: one batch for the root side, one per namespace, ${floorJobs} at a time`,
        'set -e',
        `ip -batch ${path('floor-root.batch')}`,
        `xargs -P ${floorJobs} -L 1 nsenter < ${path(`${name}-ns.list`)}`,
      ]),
    );
  }
  writeFileSync(path('floor-down.batch'), text(floorDown(lab)));
  writeFileSync(files.floorDown, text(['set -e', `ip -batch ${path('floor-down.batch')}`]));
  return files;
}
