// Bridge port flags, the pure parts: every port the lab makes wants all four, the file's or the
// kernel's defaults; a new port is set only where it differs from those; a kept one where it drifted.
import { describe, expect, it } from 'vitest';
import { resolveLab } from '../../src/model/resolve.js';
import type { LabState } from '../../src/model/types.js';
import { diff } from '../../src/plan/diff.js';
import { schedule } from '../../src/plan/graph.js';
import { commandsOf } from '../../src/resources/registry.js';

const desired = resolveLab({
  name: 'p',
  nodes: { sw: { bridges: { br0: {} }, interfaces: { 'a-eth0': { isolated: true } } }, a: {}, b: {} },
  links: [['a:eth0', 'sw:br0'], { endpoints: ['b:eth0', 'sw:br0'], port: { hairpin: true } }],
});

describe('bridge port flags', () => {
  it("gives each port all four flags, the file's over the kernel's defaults", () => {
    const sw = desired.nodes.get('sw')!;
    expect(sw.links.get('a-eth0')!.port).toEqual({ hairpin: false, isolated: true, learning: true, flood: true });
    expect(sw.links.get('b-eth0')!.port).toEqual({ hairpin: true, isolated: false, learning: true, flood: true });
  });

  it('sets a new port only where it differs from the defaults, after the settings that enslave it', () => {
    const plan = diff(desired, { lab: 'p', nodes: new Map() } as LabState);
    const ports = plan.changes.filter((c) => c.kind === 'port');
    expect(ports.flatMap(commandsOf)).toEqual([
      { tool: 'ip', line: 'link set dev a-eth0 type bridge_slave isolated on' },
      { tool: 'ip', line: 'link set dev b-eth0 type bridge_slave hairpin on' },
    ]);
    expect(schedule(plan.changes).deps.get('port/sw:a-eth0')).toContain('settings/sw:a-eth0');
  });
});
