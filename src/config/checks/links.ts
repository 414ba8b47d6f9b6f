// Links, and the interface names they make: link ends, the ports they add to bridges, and
// names claimed twice. Builds ctx.topology, which later checks read.
import { bridgePortName, parseEndpoint, type Endpoint } from '../../model/names.js';
import type { Path } from '../problem.js';
import type { LinkSpec } from '../spec.js';
import { didYouMean } from '../text.js';
import { deviceKey, lineOf, nodeEntries, nodeList, own, report, type Claim, type Ctx, type LinkEnd, type Topology } from './context.js';
import { checkIfname } from './ifnames.js';

function linkEndpoints(link: LinkSpec, index: number): Array<{ text: string; path: Path }> {
  if (Array.isArray(link)) return link.map((text, j) => ({ text, path: ['links', index, j] }));
  return link.endpoints.map((text, j) => ({ text, path: ['links', index, 'endpoints', j] }));
}

/** A link end as written, or undefined after reporting why it is unusable. */
function parseLinkEnd(ctx: Ctx, text: string, path: Path): LinkEnd | undefined {
  const endpoint: Endpoint | undefined = parseEndpoint(text);
  if (!endpoint) {
    report(
      ctx,
      path,
      `link end ${JSON.stringify(text)} is not NODE:IFNAME`,
      'e.g. c0:eth0, or host:br0 for a port of bridge br0 of node host',
    );
    return undefined;
  }
  const node = own(ctx.spec.nodes, endpoint.node);
  if (!node) {
    const names = Object.keys(ctx.spec.nodes);
    report(
      ctx,
      path,
      `link end ${JSON.stringify(text)}: no node ${endpoint.node} (nodes: ${nodeList(ctx)})`,
      `declare ${endpoint.node} under nodes, or correct the name${didYouMean(endpoint.node, names)}`,
    );
    return undefined;
  }
  if (own(node.bridges, endpoint.ifname)) return { text, path, ...endpoint, bridge: endpoint.ifname };
  if (!checkIfname(ctx, endpoint.ifname, path, ` in link end ${JSON.stringify(text)}`)) {
    ctx.topology.rejected.add(deviceKey(endpoint.node, endpoint.ifname));
    return undefined;
  }
  return { text, path, ...endpoint };
}

function claim(ctx: Ctx, claims: Map<string, Map<string, Claim>>, node: string, name: string, made: Claim): void {
  let names = claims.get(node);
  if (!names) claims.set(node, (names = new Map()));
  const before = names.get(name);
  if (!before) {
    names.set(name, made);
    return;
  }
  const line = lineOf(ctx, before.path, before.kind === 'bridge' ? 'key' : 'value');
  if (before.kind === 'end' && made.kind === 'end') {
    report(
      ctx,
      made.path,
      `${node}:${name} is already the end of the link at line ${line}`,
      'a veth end belongs to one link: use another interface name, or a bridge to join more than two ends',
    );
    return;
  }
  const hint =
    before.kind === 'port' || made.kind === 'port'
      ? 'a bridge port is named NODE-IFNAME after the far end of its link: rename an interface or node so that the names differ'
      : 'rename one of them';
  report(
    ctx,
    made.path,
    `interface name ${JSON.stringify(name)} on node ${node} is made twice: by ${before.label} (line ${line}) and by ${made.label}`,
    hint,
  );
}

/** Fills ctx.topology from the bridges and links, reporting bad link ends and name clashes. */
export function buildTopology(ctx: Ctx): void {
  const topology: Topology = ctx.topology;
  for (const [name, node] of nodeEntries(ctx.spec)) {
    for (const bridge of Object.keys(node.bridges ?? {})) {
      const path = ['nodes', name, 'bridges', bridge];
      if (checkIfname(ctx, bridge, path, ` (bridge of node ${name})`, 'key')) {
        claim(ctx, topology.claims, name, bridge, { kind: 'bridge', label: `bridge ${bridge}`, path });
      }
    }
  }
  (ctx.spec.links ?? []).forEach((spec, index) => {
    const [a, b] = linkEndpoints(spec, index).map(({ text, path }) => parseLinkEnd(ctx, text, path));
    if (a && b && a.node === b.node && a.ifname === b.ifname) {
      report(ctx, b.path, `link connects ${a.text} to itself`, 'the two ends of a link must differ');
      return;
    }
    // A good end still claims its name when the other end is bad: more errors in one run.
    if (a) claimLinkEnd(ctx, topology, a, b);
    if (b) claimLinkEnd(ctx, topology, b, a);
    if (a && b) topology.links.push({ ends: [a, b] });
  });
}

/** An interface end keeps its name; a bridge end becomes a port named after the far end. */
function claimLinkEnd(ctx: Ctx, topology: Topology, near: LinkEnd, far: LinkEnd | undefined): void {
  if (!near.bridge) {
    claim(ctx, topology.claims, near.node, near.ifname, { kind: 'end', label: `link end ${near.text}`, path: near.path });
    return;
  }
  if (!far) return;
  const port = bridgePortName(far);
  const label = `the port that link [${far.text}, ${near.text}] makes for bridge ${near.bridge}`;
  if (!checkIfname(ctx, port, near.path, ` (${label})`)) return;
  claim(ctx, topology.claims, near.node, port, { kind: 'port', label, path: near.path, bridge: near.bridge });
}
