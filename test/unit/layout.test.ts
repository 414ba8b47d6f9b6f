// The lab file resolved once (model/layout.ts): link ends, bridge ports and their names, addresses
// and routes parsed, each with its path in the file; validation and resolveLab both read it.
import { describe, expect, it, vi } from 'vitest';
import { parseLab } from '../../src/config/load.js';
import type { LabSpec } from '../../src/config/spec.js';
import { layOut, type LinkEnd } from '../../src/model/layout.js';
import * as names from '../../src/model/names.js';
import { resolveLab } from '../../src/model/resolve.js';

vi.mock('../../src/model/names.js', async (original) => {
  const actual = await original<typeof import('../../src/model/names.js')>();
  return { ...actual, bridgePortName: vi.fn(actual.bridgePortName) };
});

const spec: LabSpec = {
  name: 'layout',
  nodes: {
    c0: { interfaces: { eth0: { addresses: ['2001:DB8::0010/64', '198.51.100.10/24'] } }, routes: [{ to: 'default', via: '198.51.100.1' }] },
    sw: { bridges: { br0: { addresses: ['198.51.100.1/24'] } }, interfaces: { up0: { addresses: ['203.0.113.2/24'] } } },
    r: {},
  },
  links: [{ endpoints: ['c0:eth0', 'sw:br0'], mtu: 1400 }, ['r:eth0', 'sw:up0']],
};

describe('layOut', () => {
  it('resolves each link end once: a bridge end gets the port named after the far end, and every end its path', () => {
    const { links } = layOut(spec);
    expect(links[0]).toEqual({
      index: 0,
      mtu: 1400,
      ends: [
        { text: 'c0:eth0', path: ['links', 0, 'endpoints', 0], node: 'c0', ifname: 'eth0' },
        { text: 'sw:br0', path: ['links', 0, 'endpoints', 1], node: 'sw', ifname: 'br0', bridge: 'br0', port: 'c0-eth0' },
      ],
    });
    expect(links[1]!.ends.map((end) => end.path)).toEqual([['links', 1, 0], ['links', 1, 1]]);
  });

  it('says which ends it cannot resolve, and gives a bridge facing one no port', () => {
    const { links } = layOut({ name: 'bad', nodes: { sw: { bridges: { br0: {} } } }, links: [['nowhere', 'sw:br0'], ['x:eth0', 'sw:br0']] });
    expect(links.map((l) => l.ends[0])).toEqual([
      { text: 'nowhere', path: ['links', 0, 0], problem: 'syntax' },
      { text: 'x:eth0', path: ['links', 1, 0], problem: 'no-node', node: 'x' },
    ]);
    expect((links[0]!.ends[1] as LinkEnd).port).toBeUndefined();
  });

  it('parses addresses (interfaces first, then bridges) and routes, keeping their paths', () => {
    const layout = layOut(spec);
    const c0 = layout.addresses.get('c0')!;
    expect(c0.map((a) => [a.device, a.path, 'cidr' in a.parsed && a.parsed.cidr.ip.text])).toEqual([
      ['eth0', ['nodes', 'c0', 'interfaces', 'eth0', 'addresses', 0], '2001:db8::10'],
      ['eth0', ['nodes', 'c0', 'interfaces', 'eth0', 'addresses', 1], '198.51.100.10'],
    ]);
    expect(layout.addresses.get('sw')!.map((a) => a.device)).toEqual(['up0', 'br0']);
    const [route] = layout.routes.get('c0')!;
    expect(route).toMatchObject({ path: ['nodes', 'c0', 'routes', 0], to: 'default', via: { family: 4, text: '198.51.100.1' } });
  });

  it('is what resolveLab builds the desired state from', () => {
    const layout = layOut(spec);
    const port = layout.links[0]!.ends[1] as LinkEnd;
    port.port = 'renamed';
    const sw = resolveLab(spec, layout).nodes.get('sw')!;
    expect(sw.links.get('renamed')).toMatchObject({ type: 'veth', master: 'br0', mtu: 1400, peer: { node: 'c0', name: 'eth0' } });
    expect(resolveLab(spec, layout).nodes.get('c0')!.links.get('eth0')!.addresses).toEqual(['198.51.100.10/24', '2001:db8::10/64']);
  });

  it('names a bridge port once for validation and once for the desired state', () => {
    const text = ['name: once', 'nodes:', '  c0: {}', '  sw:', '    bridges: {br0: {}}', 'links:', '  - [c0:eth0, sw:br0]', ''].join('\n');
    const portName = vi.mocked(names.bridgePortName);
    portName.mockClear();
    const loaded = parseLab(text, 'lab.yaml');
    expect(loaded.diagnostics).toEqual([]);
    expect(portName).toHaveBeenCalledTimes(1);
    resolveLab(loaded.spec!);
    expect(portName).toHaveBeenCalledTimes(2);
  });
});
