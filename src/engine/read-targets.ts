// What a plan reads from the kernel: every node the file or the record names, with the sysctls,
// nftables table and per-interface switches worth reading in each.
import type { NodeToRead } from '../kernel/read.js';
import { interfaceKeysResetBy } from '../model/forwarding.js';
import { nftTableName } from '../model/nft.js';
import { ownsWholeNamespace, type LabState, type NodeState } from '../model/types.js';
import { BRIDGE_READS } from '../resources/registry.js';
import type { LabRecord, RecordedNode } from '../state/record.js';

/**
 * A forwarding switch the lab is about to set for the first time where it does not own the
 * namespace: the interfaces' own values are read first, to be recorded (model/forwarding.ts).
 */
function interfaceTemplates(state: NodeState, recorded: RecordedNode | undefined): string[] | undefined {
  if (ownsWholeNamespace(state.kind)) return undefined;
  const templates = [...state.sysctls.keys()].filter((k) => recorded?.sysctls?.[k] === undefined).flatMap((k) => interfaceKeysResetBy(k) ?? []);
  return templates.length > 0 ? [...new Set(templates)] : undefined;
}

/** A `bridge -j` read costs a process: only where the file or the record has such objects. */
function bridgeReads(state: NodeState | undefined, recorded: RecordedNode | undefined): Pick<NodeToRead, 'bridgeReads'> {
  const lines = BRIDGE_READS.filter((r) => (state !== undefined && r.wanted(state)) || recorded?.bridgeReads?.includes(r.table)).map((r) => r.line);
  return lines.length > 0 ? { bridgeReads: lines } : {};
}

export function targetsOf(desired: LabState, record: LabRecord | undefined): NodeToRead[] {
  const table = nftTableName(desired.lab);
  const targets = new Map<string, NodeToRead>();
  for (const [node, n] of Object.entries(record?.nodes ?? {})) {
    targets.set(node, { node, kind: n.kind, netns: n.netns, source: n.source, sysctlKeys: Object.keys(n.sysctls ?? {}), nftTable: n.nft ? table : undefined, ...bridgeReads(undefined, n) });
  }
  for (const [node, state] of desired.nodes) {
    const recorded = record?.nodes[node];
    const sysctlKeys = [...new Set([...state.sysctls.keys(), ...Object.keys(recorded?.sysctls ?? {})])];
    const nftTable = state.nft || recorded?.nft ? table : undefined;
    const interfaceSysctls = interfaceTemplates(state, recorded);
    targets.set(node, { node, kind: state.kind, netns: state.netns, source: state.source, sysctlKeys, nftTable, ...(interfaceSysctls ? { interfaceSysctls } : {}), ...bridgeReads(state, recorded), ...(state.wireguard.size > 0 ? { wireguard: true } : {}) });
  }
  return [...targets.values()].sort((a, b) => a.node.localeCompare(b.node));
}
