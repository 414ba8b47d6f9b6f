// netlab graph: the topology as Mermaid and DOT, rendered from the validated file. Pure.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphCommand, dotToSvg } from '../../src/cli/commands/graph.js';
import type { Output } from '../../src/cli/output.js';
import { loadLab } from '../../src/config/load.js';
import type { LabSpec } from '../../src/config/spec.js';
import { UserError } from '../../src/errors.js';
import type { Runner } from '../../src/kernel/runner.js';
import { renderDot, renderMermaid, topologyGraph } from '../../src/views/graph.js';
import { TOPOLOGIES } from '../helpers/sandbox.js';

async function load(file: string): Promise<LabSpec> {
  const loaded = await loadLab(file);
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return loaded.spec!;
}

const SEED_001 = join(TOPOLOGIES, 'seed-001-two-veths.yaml');
const SEED_000 = join(TOPOLOGIES, 'seed-000-ns1-bridge.yaml');

/** The same lab with its nodes, interfaces and links written in the opposite order. */
function reversed(spec: LabSpec): LabSpec {
  const nodes = Object.fromEntries(
    Object.entries(spec.nodes)
      .reverse()
      .map(([name, node]) => [name, { ...node, interfaces: node.interfaces && Object.fromEntries(Object.entries(node.interfaces).reverse()) }]),
  );
  return { ...spec, nodes, links: [...(spec.links ?? [])].reverse() };
}

describe('graph of seed 001 (two veths in one /16)', () => {
  it('names every node, address and both ends of every link, in Mermaid and DOT', async () => {
    const spec = await load(SEED_001);
    for (const text of [renderMermaid(spec), renderDot(spec)]) {
      for (const node of ['host', 'netns0', 'netns1']) expect(text).toContain(`"${node}"`);
      for (const address of ['172.18.0.11/16', '172.18.0.21/16', '172.18.0.10/16', '172.18.0.20/16']) expect(text).toContain(address);
      expect(text).toContain('host:veth0 ↔ netns0:ceth0');
      expect(text).toContain('host:veth1 ↔ netns1:ceth1');
    }
    const g = topologyGraph(spec);
    expect(g.groups.map((group) => group.node)).toEqual(['host', 'netns0', 'netns1']);
    expect(g.edges).toHaveLength(2);
  });

  it('is stable: the same picture every time, whatever order the file lists things in', async () => {
    const spec = await load(SEED_001);
    expect(renderMermaid(spec)).toBe(renderMermaid(spec));
    expect(renderMermaid(reversed(spec))).toBe(renderMermaid(spec));
    expect(renderDot(reversed(spec))).toBe(renderDot(spec));
    expect(renderMermaid(spec)).toBe(
      [
        '---',
        'title: "seed-001-two-veths"',
        '---',
        'flowchart LR',
        '  %% Two veths in one /16 on the host; the second namespace is unreachable',
        '  subgraph n1g["host"]',
        '    n1["host<br/>veth0: 172.18.0.11/16<br/>veth1: 172.18.0.21/16"]',
        '  end',
        '  subgraph n2g["netns0"]',
        '    n2["netns0<br/>ceth0: 172.18.0.10/16"]',
        '  end',
        '  subgraph n3g["netns1"]',
        '    n3["netns1<br/>ceth1: 172.18.0.20/16"]',
        '  end',
        '  n1 ---|"host:veth0 ↔ netns0:ceth0"| n2',
        '  n1 ---|"host:veth1 ↔ netns1:ceth1"| n3',
        '',
      ].join('\n'),
    );
  });
});

describe('graph of bridges', () => {
  it('draws a bridge inside its node, a port given by master: on the bridge, routes in the namespace', async () => {
    const spec = await load(SEED_000);
    const mermaid = renderMermaid(spec);
    expect(mermaid).toContain('subgraph n1g["host"]');
    expect(mermaid).toContain('n1b1{{"bridge lxcbr0<br/>192.168.10.1/24"}}');
    expect(mermaid).toContain('n1b1 ---|"host:lxcbr0.1 ↔ ns1:eth0"| n2');
    expect(mermaid).toContain('route default via 192.168.10.1');
    // host holds nothing but the bridge: no empty box for it.
    expect(mermaid).not.toMatch(/^ {4}n1\[/m);
    const dot = renderDot(spec);
    expect(dot).toMatch(/subgraph "cluster_n1g" \{\n {4}label="host";/);
    expect(dot).toContain('n1b1 [shape=hexagon, label="bridge lxcbr0\\n192.168.10.1/24\\l"];');
    expect(dot).toContain('n1b1 -- n2 [label="host:lxcbr0.1 ↔ ns1:eth0"];');
  });

  it("labels a link that ends on a bridge with the port name resolveLinks makes, and a link's mtu", () => {
    const spec: LabSpec = {
      name: 'sw',
      prefix: 'p-',
      nodes: {
        sw: { bridges: { br0: { stp: true } } },
        a_very_long_node: { interfaces: { eth0: { addresses: ['198.51.100.10/24'] } } },
        b: {},
      },
      links: [['a_very_long_node:eth0', 'sw:br0'], { endpoints: ['b:eth0', 'sw:br0'], mtu: 9000 }],
    };
    const g = topologyGraph(spec);
    expect(g.edges.map((e) => e.label)).toEqual([
      expect.stringMatching(/^a_very_long_node:eth0 ↔ sw:nl-[0-9a-f]{8}$/),
      'b:eth0 ↔ sw:b-eth0 (mtu 9000)',
    ]);
    expect(g.groups.find((x) => x.node === 'sw')!.title).toBe('sw (namespace p-sw)');
    expect(renderMermaid(spec)).toContain('stp on');
  });

  it('escapes what would break the syntax', () => {
    const spec: LabSpec = { name: 'q', description: 'say "hi" <b>', nodes: { a: {} } };
    expect(renderMermaid(spec)).toContain('%% say "hi" <b>');
    expect(renderDot(spec)).toContain('label="q: say \\"hi\\" <b>";');
  });
});

describe('graph --format svg', () => {
  const capture = (): Output & { text: string } => {
    const o = { text: '', out: (t: string) => void (o.text += t), err: (t: string) => void (o.text += t) };
    return o;
  };

  it('names the Debian package graphviz when dot is missing', async () => {
    const missing: Runner = { run: async () => ({ exitCode: 127, stdout: '', stderr: 'spawn dot ENOENT' }) };
    await expect(dotToSvg('graph {}', missing)).rejects.toThrow(UserError);
    await expect(dotToSvg('graph {}', missing)).rejects.toThrow(/Debian package graphviz/);
  });

  it('hands DOT to dot -Tsvg and prints what it answers', async () => {
    const seen: Array<{ argv: readonly string[]; input?: string }> = [];
    const dot: Runner = {
      run: async (argv, input) => {
        seen.push({ argv, input });
        return { exitCode: 0, stdout: '<svg/>', stderr: '' };
      },
    };
    const out = capture();
    expect(await graphCommand(SEED_001, { format: 'svg' }, out, dot)).toBe(0);
    expect(out.text).toBe('<svg/>');
    expect(seen[0]!.argv).toEqual(['dot', '-Tsvg']);
    expect(seen[0]!.input).toBe(renderDot(await load(SEED_001)));
  });

  it('refuses a format it does not know', async () => {
    await expect(graphCommand(SEED_001, { format: 'png' }, capture())).rejects.toThrow(/mermaid, dot, svg/);
  });
});
