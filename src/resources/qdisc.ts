// An interface's egress impairment (`impair:`): its root qdisc, a tbf for a rate alone, netem for
// delay, jitter, loss, duplicate, reorder or corrupt (with a rate too). netlab's root qdiscs carry
// the handle 4d:, so that where the lab does not own the namespace it knows its own; a root qdisc
// the kernel gives by itself (noqueue, fq_codel, mq, ...) is nobody's and never drift.
import { describeImpair, impairKeys, LAB_QDISC_HANDLE, qdiscDifferences, qdiscOptions, replacesInPlace, type QdiscState } from '../model/impair.js';
import { formatEndpoint } from '../model/names.js';
import type { NodeState } from '../model/types.js';
import type { Command, ChangeBase, NodeDiff, NodeResource } from './resource.js';

export type QdiscChange = ChangeBase & {
  kind: 'qdisc';
  /** create, update: the file's; delete: the one there. */
  qdisc: QdiscState;
  /** update: the one there is deleted first (its kind changes, or netem would keep an option the file drops). */
  remake?: boolean;
};

const isImpairment = (q: QdiscState) => q.kind === 'tbf' || q.kind === 'netem';

function describe(q: QdiscState): string {
  return `${q.kind} ${describeImpair(q.impair ?? {})}`.trim();
}

function tcLines(c: QdiscChange): string[] {
  const dev = c.qdisc.dev;
  const del = `qdisc del dev ${dev} root`;
  if (c.action === 'delete') return [del];
  // replace: whatever is at the root now (the kernel's default, or a qdisc of another handle) gives way.
  const set = `qdisc replace dev ${dev} root handle ${LAB_QDISC_HANDLE} ${qdiscOptions(c.qdisc.impair ?? {})}`;
  return c.remake ? [del, set] : [set];
}

export const qdiscResource: NodeResource<QdiscChange> = {
  kind: 'qdisc',
  plural: 'qdiscs',
  id: (c) => `qdisc/${c.node}:${c.qdisc.dev}`,
  scope: (c) => ({ tool: 'tc', netns: c.netns }),
  commands: (c): Command[] => tcLines(c).map((line) => ({ tool: 'tc', line })),
  summary: (c) => `impair ${formatEndpoint({ node: c.node, ifname: c.qdisc.dev })}: ${describe(c.qdisc)}`,
  dependsOn: (c, index) => [index.linkMade(c.node, c.qdisc.dev)],

  needs: (want: NodeState) =>
    [...want.qdiscs.values()]
      .filter((q) => q.kind === 'netem')
      .map((q) => ({ feature: 'netem' as const, object: `${want.node}:${q.dev}`, key: `impair ${impairKeys(q.impair ?? {}).filter((k) => k !== 'rate').join(', ')}` })),

  /** The lab's: a tbf or netem with netlab's handle, listed by the record or asked for by the file. */
  labsOwn(want, have, recorded) {
    const mine = new Map<string, QdiscState>();
    const conflicts: string[] = [];
    for (const [dev, q] of have.qdiscs) {
      if (isImpairment(q) && q.handle === LAB_QDISC_HANDLE && (recorded.has(dev) || want.qdiscs.has(dev))) mine.set(dev, q);
      else if (want.qdiscs.has(dev)) {
        conflicts.push(`root qdisc ${q.kind} ${q.handle} on ${have.node}:${dev} is not the lab's — remove it (tc qdisc del dev ${dev} root) or the impair: of ${dev} from the file`);
      }
    }
    return { view: { qdiscs: mine }, conflicts };
  },
  recordKey: (c) => (c.action === 'delete' ? undefined : c.qdisc.dev),
  recordKeys: (want) => [...want.qdiscs.keys()].sort(),

  /** A link made again comes with the kernel's default qdisc: its impairment is set again. */
  diff(n: NodeDiff) {
    const base = { node: n.want.node, netns: n.want.netns, kind: 'qdisc' as const };
    for (const dev of [...n.want.qdiscs.keys()].sort()) {
      const qdisc = n.want.qdiscs.get(dev)!;
      const remade = n.links.recreated.has(dev);
      const have = remade ? undefined : n.current.qdiscs.get(dev);
      if (!have) {
        const reason = remade && n.present.has(dev) ? `goes with ${dev}, made again; set again` : `${describe(qdisc)} on ${dev} missing`;
        n.emit({ ...base, action: 'create', qdisc, reason });
        continue;
      }
      const differences = qdiscDifferences(qdisc, have);
      if (differences.length === 0) continue;
      n.emit({ ...base, action: 'update', qdisc, reason: differences.join('; '), ...(replacesInPlace(qdisc, have) ? {} : { remake: true }) });
    }
    for (const dev of [...n.current.qdiscs.keys()].sort()) {
      const have = n.current.qdiscs.get(dev)!;
      // Only a tbf or netem is an impairment; a qdisc on a link being deleted goes with it.
      if (n.want.qdiscs.has(dev) || !isImpairment(have) || n.links.gone.has(dev)) continue;
      n.emit({ ...base, action: 'delete', qdisc: have, reason: `${describe(have)} on ${dev} is not in the file` });
    }
  },
};
