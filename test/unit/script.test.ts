// netlab script: the lab as the shell commands apply would run, from nothing. Pure, but for `sh -n`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLab } from '../../src/config/load.js';
import type { LabSpec } from '../../src/config/spec.js';
import { commandsOf } from '../../src/resources/registry.js';
import { resolveLab } from '../../src/model/resolve.js';
import { buildSteps, commandLines, renderScript, shellWord, singleQuote } from '../../src/views/script.js';
import { TOPOLOGIES } from '../helpers/sandbox.js';

const spec: LabSpec = {
  name: 'demo',
  prefix: 'd-',
  nodes: {
    host: {
      sysctls: { 'net.ipv4.ip_forward': 1, 'net.ipv4.ip_local_port_range': '32768 60999' },
      bridges: { br0: { addresses: ['198.51.100.1/24'] } },
    },
    c0: {
      interfaces: { eth0: { addresses: ['198.51.100.10/24', '2001:db8::10/64'] } },
      routes: [{ to: 'default', via: '198.51.100.1' }],
      dns: { nameservers: ['198.51.100.53'], search: ['lab.test'], options: ['ndots:2'] },
    },
  },
  links: [['c0:eth0', 'host:br0']],
};

const commandLinesOf = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#') && l !== 'set -e');

describe('renderScript', () => {
  const text = renderScript(spec, { file: 'demo.yaml' });

  it('prints the commands in the order apply runs them, commented by step', () => {
    expect(text.startsWith('#!/bin/sh\n# netlab script: lab demo (demo.yaml)\n')).toBe(true);
    expect(text).toContain('\nset -e\n');
    const steps = text.split('\n').filter((l) => l.startsWith('# step '));
    expect(steps[0]).toBe('# step 1: namespaces and veth pairs (root namespace)');
    expect(steps.some((s) => /^# step \d+: lo and the lab's ownership mark, .*\(namespace d-c0, node c0\)$/.test(s))).toBe(true);
    expect(steps.some((s) => /^# step \d+: sysctls \(namespace d-host, node host\)$/.test(s))).toBe(true);
    expect(steps.some((s) => /^# step \d+: resolv\.conf \(namespace d-c0, node c0\)$/.test(s))).toBe(true);
    const lines = commandLinesOf(text);
    expect(lines.slice(0, 3)).toEqual(['ip netns add d-c0', 'ip netns add d-host', 'ip link add name eth0 netns d-c0 type veth peer name c0-eth0 netns d-host']);
    expect(lines).toContain('ip -n d-c0 link set dev lo alias netlab:demo');
    expect(lines).toContain('ip -n d-host link add name br0 type bridge');
    expect(lines).toContain('ip -n d-c0 addr replace 2001:db8::10/64 dev eth0 nodad');
    const route = lines.find((l) => l.startsWith('ip -n d-c0 route replace default via 198.51.100.1 metric 0'));
    expect(route).toBeDefined();
    expect(lines).toContain('ip netns exec d-host sysctl -w net.ipv4.ip_forward=1');
    expect(lines).toContain("ip netns exec d-host sysctl -w 'net.ipv4.ip_local_port_range=32768\t60999'");
    expect(lines).toContain('mkdir -p /etc/netns/d-c0');
    expect(lines).toContain("printf '%s\\n' '# written by netlab' 'nameserver 198.51.100.53' 'search lab.test' 'options ndots:2' > /etc/netns/d-c0/resolv.conf");
    // The bridge exists before its port is enslaved; addresses come before the routes that use them.
    expect(lines.indexOf('ip -n d-host link add name br0 type bridge')).toBeLessThan(lines.indexOf('ip -n d-host link set dev c0-eth0 master br0 up'));
    expect(lines.indexOf('ip -n d-c0 addr replace 198.51.100.10/24 dev eth0')).toBeLessThan(lines.indexOf(route!));
  });

  it('is made of exactly the commands apply would run from nothing: one line per ip/sysctl command', () => {
    const steps = buildSteps(resolveLab(spec));
    const expected = steps.flatMap((b) => b.changes.flatMap((c) => commandsOf(c).flatMap((cmd) => commandLines(cmd, b.scope.netns, spec.name))));
    expect(commandLinesOf(text)).toEqual(expected);
    const ipLines = steps.flatMap((b) => b.changes.flatMap((c) => commandsOf(c))).filter((c) => c.tool === 'ip');
    expect(commandLinesOf(text).filter((l) => l.startsWith('ip ') && !l.startsWith('ip netns exec'))).toHaveLength(ipLines.length);
  });

  it('is the same text every time', () => {
    expect(renderScript(spec, { file: 'demo.yaml' })).toBe(text);
  });
});

describe('quoting', () => {
  it('single-quotes anything a shell would read differently', () => {
    expect(shellWord('198.51.100.0/24')).toBe('198.51.100.0/24');
    expect(shellWord('a b')).toBe("'a b'");
    expect(shellWord('$(reboot)')).toBe("'$(reboot)'");
    expect(singleQuote("it's")).toBe("'it'\\''s'");
    const printed = spawnSync('sh', ['-c', `printf '%s' ${singleQuote("it's $HOME `x` \\ \"q\"")}`], { encoding: 'utf8' });
    expect(printed.stdout).toBe("it's $HOME `x` \\ \"q\"");
  });

  it('writes a file with printf so that it holds exactly the content', () => {
    const content = "# written by netlab\nnameserver 198.51.100.53\nsearch it's.test\n";
    const [mkdir, write] = commandLines({ tool: 'file', op: 'write', path: '/tmp/x/resolv.conf', content }, 'ns');
    expect(mkdir).toBe('mkdir -p /tmp/x');
    const printed = spawnSync('sh', ['-c', write!.replace(/ > \S+$/, '')], { encoding: 'utf8' });
    expect(printed.stdout).toBe(content);
  });

  it('starts a run: command as apply does: its run file, then the process that names the file in NETLAB_RUN', () => {
    const command = "printf 'a\\n' | cat";
    const [mkdir, note, start] = commandLines({ tool: 'proc', op: 'start', node: 'r', key: 'k1', argv: ['ip', 'netns', 'exec', 'r', 'sh', '-c', command], command }, 'r', 'lab1');
    expect(mkdir).toBe('mkdir -p "${NETLAB_STATE_DIR:-/run/netlab}"/lab1/run');
    const dir = mkdtempSync(join(tmpdir(), 'netlab-script-run-'));
    const printed = spawnSync('sh', ['-c', note!.replace(/ > \S+$/, '')], { encoding: 'utf8', env: { ...process.env, NETLAB_STATE_DIR: dir } });
    expect(JSON.parse(printed.stdout)).toEqual({ command, pid: 0, started: '', log: `${dir}/lab1/run/r.k1.log` });
    expect(start).toBe(`NETLAB_RUN="\${NETLAB_STATE_DIR:-/run/netlab}"/lab1/run/r.k1.json setsid ip netns exec r sh -c 'printf '\\''a\\n'\\'' | cat' >>"\${NETLAB_STATE_DIR:-/run/netlab}"/lab1/run/r.k1.log 2>&1 &`);
    rmSync(dir, { recursive: true });
  });

  it('gives an nftables script to nft as a here-document', () => {
    const [line] = commandLines({ tool: 'nft', script: 'table inet t {\n  chain c {\n  }\n}\n' }, 'r');
    expect(line).toBe("ip netns exec r nft -f - <<'NFT'\ntable inet t {\n  chain c {\n  }\n}\nNFT");
  });
});

describe('the script of every lab in topologies/', () => {
  const labs = readdirSync(TOPOLOGIES).filter((f) => f.endsWith('.yaml'));
  for (const name of labs) {
    it(`${name}: is shell that sh -n accepts`, async () => {
      // docker-container.yaml takes its pid from ${APP_PID}.
      const loaded = await loadLab(join(TOPOLOGIES, name), { env: { APP_PID: '4242' } });
      expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const text = renderScript(loaded.spec!, { file: name });
      const checked = spawnSync('sh', ['-n'], { input: text, encoding: 'utf8' });
      expect(checked.status, checked.stderr).toBe(0);
    });
  }
});

describe('the script of a lab with container: nodes', () => {
  const text = renderScript({ name: 'c', nodes: { web: { kind: 'attach', container: 'web1' }, sw: {} }, links: [['web:eth0', 'sw:eth0']] });
  const fn = text.slice(text.indexOf('container_pid() {'), text.indexOf('\n}\n') + 2);
  /** The script's container_pid with a `docker` on PATH that prints `answer`. */
  const lookup = (answer: string) => {
    const bin = mkdtempSync(join(tmpdir(), 'netlab-script-'));
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\n[ "$1 $2 $3 $4 $5" = "container inspect --format {{.State.Pid}} web1" ] && echo ${answer}\n`, { mode: 0o755 });
    const result = spawnSync('/bin/sh', ['-c', `${fn}\ncontainer_pid web1`], { encoding: 'utf8', env: { PATH: bin } });
    rmSync(bin, { recursive: true });
    return result;
  };

  it('asks for the pid when it runs, as plan does', () => {
    expect(text).toContain('mount --bind "/proc/$(container_pid web1)/ns/net" /run/netns/web');
    const found = lookup('4711');
    expect(found.status).toBe(0);
    expect(found.stdout).toBe('4711\n');
  });

  it('stops with one line when no engine has the container running', () => {
    const stopped = lookup('0');
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toBe('no running container web1 (asked docker, podman, nerdctl)\n');
  });
});
