// The lab as a picture: Mermaid (renders in a README on the usual git hosts) or Graphviz DOT.
// Pure: rendered from the validated file through the same resolution the engine uses, so port
// names are the ones apply makes. Output is stable: nodes, bridges and links are sorted.
import { describeRoute } from '../resources/route.js';
import type { LabSpec, NatRuleSpec, NodeSpec } from '../config/spec.js';
import { resolveLab, resolveLinks } from '../model/resolve.js';
import { describeImpair } from '../model/impair.js';
import { describeSettings } from '../model/virtual.js';
import { routeKey, sortedKeys, type LabState, type LinkState, type NodeState } from '../model/types.js';

export type GraphFormat = 'mermaid' | 'dot' | 'svg';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['mermaid', 'dot', 'svg'];

/** One box of the picture: a namespace's own stack, or a bridge in it. */
interface Box {
  id: string;
  /** Lines of the label; the first is the title. */
  lines: string[];
}

interface NodeGroup {
  /** The group's own id (a Mermaid subgraph, a DOT cluster). */
  id: string;
  node: string;
  title: string;
  /** The namespace's own interfaces (those not enslaved to a bridge) and routes; none for a node of bridges only. */
  stack?: Box;
  bridges: Box[];
}

interface Edge {
  from: string;
  to: string;
  label: string;
  /** Not a wire: a VXLAN overlay between two nodes, or a macvlan made from another node's interface. Drawn dashed. */
  virtual?: boolean;
}

export interface TopologyGraph {
  lab: string;
  description?: string;
  groups: NodeGroup[];
  edges: Edge[];
}

function addressLines(link: LinkState): string[] {
  return link.addresses.map((cidr) => `${link.name}: ${cidr}`);
}

function natLine(rule: NatRuleSpec): string {
  const parts = [`nat: ${rule.type}`];
  if (rule.source) parts.push(`from ${rule.source}`);
  if (rule.destination) parts.push(`to ${rule.destination}`);
  if (rule.in) parts.push(`in ${rule.in}`);
  if (rule.out) parts.push(`out ${rule.out}`);
  if (rule.proto) parts.push(rule.port ? `${rule.proto}/${rule.port}` : rule.proto);
  if (rule.to) parts.push(`→ ${rule.to}`);
  return parts.join(' ');
}

/** What a node does besides its interfaces: sysctls, NAT rules, firewall chains, one line each. */
function policyLines(spec: NodeSpec): string[] {
  const lines = Object.entries(spec.sysctls ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `sysctl ${key} = ${typeof value === 'boolean' ? (value ? 1 : 0) : value}`);
  lines.push(...(spec.nat ?? []).map(natLine));
  for (const chain of ['input', 'forward', 'output'] as const) {
    const c = spec.firewall?.[chain];
    if (c) lines.push(`firewall ${chain}: policy ${c.policy ?? 'accept'}, ${c.rules?.length ?? 0} rule(s)`);
  }
  return lines;
}

/** What a virtual interface is, under its parent: "shim: macvlan on eth0 (mode bridge)". */
function virtualLine(state: NodeState, link: LinkState): string | undefined {
  const v = link.virtual;
  if (!v) return undefined;
  const parent = v.parent ? ` on ${v.parent.node === state.node ? v.parent.name : `${v.parent.node}:${v.parent.name}`}` : '';
  const settings = Object.keys(v.settings).length > 0 ? ` (${describeSettings(v.settings)})` : '';
  return `${link.name}: ${v.kind}${parent}${settings}`;
}

function stackLines(state: NodeState): string[] {
  const lines: string[] = [];
  for (const name of sortedKeys(state.links)) {
    const link = state.links.get(name)!;
    if (link.type === 'bridge' || link.master) continue;
    const what = virtualLine(state, link);
    if (what) lines.push(what);
    lines.push(...addressLines(link));
    if (!link.up) lines.push(`${link.name}: down`);
  }
  const routes = [...state.routes.values()].sort((a, b) => routeKey(a).localeCompare(routeKey(b)));
  lines.push(...routes.map((r) => `route ${describeRoute(r)}`));
  return lines;
}

/** The lab's topology as boxes and edges, before any syntax. */
export function topologyGraph(spec: LabSpec): TopologyGraph {
  const desired = resolveLab(spec);
  const nodeNames = Object.keys(spec.nodes).sort();
  const stackId = new Map<string, string>();
  const bridgeId = new Map<string, string>();
  const built = nodeNames.map((node, i): NodeGroup & { stack: Box } => {
    const state = desired.nodes.get(node)!;
    const id = `n${i + 1}`;
    stackId.set(node, id);
    const bridges = sortedKeys(state.links)
      .filter((name) => state.links.get(name)!.type === 'bridge')
      .map((name, j): Box => {
        const bridge = state.links.get(name)!;
        const box = { id: `${id}b${j + 1}`, lines: [`bridge ${name}`, ...bridge.addresses] };
        if (bridge.stp) box.lines.push('stp on');
        bridgeId.set(`${node}:${name}`, box.id);
        return box;
      });
    const title = state.netns === null ? `${node} (root namespace)` : state.netns === node ? node : `${node} (namespace ${state.netns})`;
    const lines = [node, ...stackLines(state), ...policyLines(spec.nodes[node]!)];
    return { id: `${id}g`, node, title, stack: { id, lines }, bridges };
  });

  const boxOf = (node: string, name: string): string => {
    const master = desired.nodes.get(node)!.links.get(name)?.master;
    return (master && bridgeId.get(`${node}:${master}`)) || stackId.get(node)!;
  };
  const edges = resolveLinks(spec)
    .map(({ ends, mtu }): Edge & { key: string } => {
      const [a, b] = [...ends].sort((x, y) => `${x.node}:${x.name}`.localeCompare(`${y.node}:${y.name}`)) as [typeof ends[0], typeof ends[1]];
      const label = `${a.node}:${a.name} ↔ ${b.node}:${b.name}${mtu ? ` (mtu ${mtu})` : ''}${impairLabel(desired, a, b)}`;
      return { from: boxOf(a.node, a.name), to: boxOf(b.node, b.name), label, key: `${a.node}:${a.name}` };
    })
    .sort((x, y) => x.key.localeCompare(y.key))
    .map(({ from, to, label }): Edge => ({ from, to, label }));
  edges.push(...virtualEdges(desired.nodes, nodeNames, boxOf));
  // A node that is only bridges needs no box for its own stack: nothing leads there.
  const groups = built.map((group): NodeGroup => {
    const used = edges.some((e) => e.from === group.stack.id || e.to === group.stack.id);
    return group.bridges.length > 0 && group.stack.lines.length === 1 && !used ? { ...group, stack: undefined } : group;
  });
  return { lab: spec.name, description: spec.description, groups, edges };
}

/** A node's own IP addresses, as a VXLAN's remote may name them. */
function addressesOf(state: NodeState): Set<string> {
  return new Set([...state.links.values()].flatMap((l) => [...l.addresses.map((c) => c.split('/')[0]!), ...(l.virtual?.settings.local !== undefined ? [String(l.virtual.settings.local)] : [])]));
}

/**
 * Edges that are no wire: a VXLAN between two nodes whose remotes are each other's addresses (or
 * that share a multicast group and VNI), and a macvlan from its parent in another node to the child.
 */
function virtualEdges(nodes: ReadonlyMap<string, NodeState>, names: readonly string[], boxOf: (node: string, name: string) => string): Edge[] {
  const vxlans = names.flatMap((node) => [...nodes.get(node)!.links.values()].filter((l) => l.virtual?.kind === 'vxlan').sort((a, b) => a.name.localeCompare(b.name)).map((link) => ({ node, link })));
  const edges: Edge[] = [];
  vxlans.forEach((a, i) => {
    for (const b of vxlans.slice(i + 1)) {
      if (a.node === b.node) continue;
      const [sa, sb] = [a.link.virtual!.settings, b.link.virtual!.settings];
      if (sa.id !== sb.id) continue;
      const unicast = sa.remote !== undefined && sb.remote !== undefined && addressesOf(nodes.get(b.node)!).has(String(sa.remote)) && addressesOf(nodes.get(a.node)!).has(String(sb.remote));
      const multicast = sa.group !== undefined && sa.group === sb.group;
      if (!unicast && !multicast) continue;
      edges.push({ from: boxOf(a.node, a.link.name), to: boxOf(b.node, b.link.name), label: `vxlan ${sa.id}: ${a.node}:${a.link.name} ⇢ ${b.node}:${b.link.name}`, virtual: true });
    }
  });
  for (const node of names) {
    for (const name of sortedKeys(nodes.get(node)!.links)) {
      const parent = nodes.get(node)!.links.get(name)!.virtual?.parent;
      if (!parent || parent.node === node || !nodes.has(parent.node)) continue;
      edges.push({ from: boxOf(parent.node, parent.name), to: boxOf(node, name), label: `macvlan ${node}:${name} of ${parent.node}:${parent.name}`, virtual: true });
    }
  }
  return edges;
}

// ── Mermaid

/** What the link's ends impair, once when both do the same: " (delay 40ms, loss 1%)". */
function impairLabel(desired: LabState, a: { node: string; name: string }, b: { node: string; name: string }): string {
  const [qa, qb] = [a, b].map((end) => desired.nodes.get(end.node)?.qdiscs.get(end.name)?.impair);
  const [da, db] = [qa, qb].map((q) => (q ? describeImpair(q) : undefined));
  if (da === undefined && db === undefined) return '';
  if (da === db) return ` (${da})`;
  return [da && ` (${a.node}:${a.name} sends: ${da})`, db && ` (${b.node}:${b.name} sends: ${db})`].filter(Boolean).join('');
}

/** Mermaid labels are quoted; a quote inside is an entity, and so are < and > (labels are HTML). */
function mermaidText(text: string): string {
  return text.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function mermaidLabel(lines: string[]): string {
  return `"${lines.map(mermaidText).join('<br/>')}"`;
}

export function renderMermaid(spec: LabSpec): string {
  const g = topologyGraph(spec);
  const out = ['---', `title: ${JSON.stringify(g.lab)}`, '---', 'flowchart LR'];
  if (g.description) out.push(`  %% ${g.description.replace(/\s+/g, ' ')}`);
  for (const group of g.groups) {
    out.push(`  subgraph ${group.id}[${mermaidLabel([group.title])}]`);
    if (group.stack) out.push(`    ${group.stack.id}[${mermaidLabel(group.stack.lines)}]`);
    for (const bridge of group.bridges) out.push(`    ${bridge.id}{{${mermaidLabel(bridge.lines)}}}`);
    out.push('  end');
  }
  for (const edge of g.edges) out.push(`  ${edge.from} ${edge.virtual ? '-.-' : '---'}|${mermaidLabel([edge.label])}| ${edge.to}`);
  return `${out.join('\n')}\n`;
}

// ── Graphviz DOT

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Lines of a DOT label, each left-aligned (\l) but for the centred title. */
function dotLabel(lines: string[]): string {
  const [title = '', ...rest] = lines;
  const escape = (t: string) => t.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return `"${escape(title)}\\n${rest.map((l) => `${escape(l)}\\l`).join('')}"`;
}

export function renderDot(spec: LabSpec): string {
  const g = topologyGraph(spec);
  const out = [
    `graph ${dotString(g.lab)} {`,
    `  label=${dotString(g.description ? `${g.lab}: ${g.description}` : g.lab)};`,
    '  labelloc=t;',
    '  rankdir=LR;',
    '  fontname="Helvetica";',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const group of g.groups) {
    out.push(`  subgraph ${dotString(`cluster_${group.id}`)} {`);
    out.push(`    label=${dotString(group.title)};`, '    style=rounded;');
    if (group.stack) out.push(`    ${group.stack.id} [shape=box, label=${dotLabel(group.stack.lines)}];`);
    for (const bridge of group.bridges) out.push(`    ${bridge.id} [shape=hexagon, label=${dotLabel(bridge.lines)}];`);
    out.push('  }');
  }
  for (const edge of g.edges) out.push(`  ${edge.from} -- ${edge.to} [label=${dotString(edge.label)}${edge.virtual ? ', style=dashed' : ''}];`);
  out.push('}');
  return `${out.join('\n')}\n`;
}
