// Links, and the interface names they make: link ends, the ports they add to bridges (as the
// layout resolved them), and names claimed twice. Builds ctx.topology, which later checks read.
import { isResolved, type End, type LinkEnd } from '../../model/layout.js';
import { didYouMean } from '../text.js';
import { deviceKey, lineOf, nodeEntries, nodeList, report, type Claim, type Ctx, type Topology } from './context.js';
import { checkIfname } from './ifnames.js';

/** A link end the layout resolved and whose name the kernel takes, or undefined after reporting why not. */
function checkLinkEnd(ctx: Ctx, end: End): LinkEnd | undefined {
  const { text, path } = end;
  if (!isResolved(end)) {
    if (end.problem === 'syntax') {
      report(ctx, path, `link end ${JSON.stringify(text)} is not NODE:IFNAME`, 'e.g. c0:eth0, or host:br0 for a port of bridge br0 of node host');
    } else {
      report(
        ctx,
        path,
        `link end ${JSON.stringify(text)}: no node ${end.node} (nodes: ${nodeList(ctx)})`,
        `declare ${end.node} under nodes, or correct the name${didYouMean(end.node, Object.keys(ctx.spec.nodes))}`,
      );
    }
    return undefined;
  }
  if (end.bridge !== undefined) return end;
  if (!checkIfname(ctx, end.ifname, path, ` in link end ${JSON.stringify(text)}`)) {
    ctx.topology.rejected.add(deviceKey(end.node, end.ifname));
    return undefined;
  }
  return end;
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
  for (const { index, ends, mtu } of ctx.layout.links) {
    const [a, b] = ends.map((end) => checkLinkEnd(ctx, end));
    if (a && b && a.node === b.node && a.ifname === b.ifname) {
      report(ctx, b.path, `link connects ${a.text} to itself`, 'the two ends of a link must differ');
      continue;
    }
    // A good end still claims its name when the other end is bad: more errors in one run.
    if (a) claimLinkEnd(ctx, topology, a, b);
    if (b) claimLinkEnd(ctx, topology, b, a);
    if (a && b) topology.links.push({ index, ends: [a, b], mtu });
  }
}

/** An interface end keeps its name; a bridge end becomes a port named after the far end. */
function claimLinkEnd(ctx: Ctx, topology: Topology, near: LinkEnd, far: LinkEnd | undefined): void {
  if (!near.bridge) {
    claim(ctx, topology.claims, near.node, near.ifname, { kind: 'end', label: `link end ${near.text}`, path: near.path });
    return;
  }
  if (!far || near.port === undefined) return;
  const port = near.port;
  const label = `the port that link [${far.text}, ${near.text}] makes for bridge ${near.bridge}`;
  if (!checkIfname(ctx, port, near.path, ` (${label})`)) return;
  claim(ctx, topology.claims, near.node, port, { kind: 'port', label, path: near.path, bridge: near.bridge });
}
