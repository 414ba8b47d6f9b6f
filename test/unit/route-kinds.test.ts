// Routes beyond a gateway and a device: other tables, blackhole/unreachable/prohibit/throw,
// multipath with weights, onlink gateways and a source address. The pure parts: how they are read
// from `ip -d -j route`, compared, and written for `ip -batch`.
import { describe, expect, it } from 'vitest';
import { emptyNode, routeKey, type RouteState } from '../../src/model/types.js';
import { commandsOf } from '../../src/resources/registry.js';
import { describeRoute, isLabRoute, parseRoute, routeResource, type IpRouteJson } from '../../src/resources/route.js';
import type { Change } from '../../src/plan/change.js';

/** What `ip -d -j route show table all` printed for routes made with the commands below (kernel 6.18). */
const READ: IpRouteJson[] = [
  { type: 'unreachable', dst: '10.3.0.0/16', table: '200', protocol: '77', scope: 'global', metric: 5, flags: [] },
  { type: 'throw', dst: '10.4.0.0/16', table: '200', protocol: '77', scope: 'global', flags: [] },
  { type: 'unicast', dst: '10.1.0.0/16', table: 'main', protocol: '77', scope: 'global', flags: [], nexthops: [{ gateway: '192.0.2.2', dev: 'va', weight: 1 }, { gateway: '192.0.2.3', dev: 'va', weight: 2 }] },
  { type: 'unicast', dst: '10.2.0.0/16', gateway: '169.254.1.1', dev: 'va', table: 'main', protocol: '77', scope: 'global', prefsrc: '192.0.2.1', flags: ['onlink'] },
  { type: 'prohibit', dst: '10.5.0.0/16', table: 'main', protocol: '77', scope: 'global', flags: [] },
  { type: 'local', dst: '192.0.2.1', dev: 'va', table: 'local', protocol: 'kernel', scope: 'host', prefsrc: '192.0.2.1', flags: [] },
];

const change = (route: RouteState, action: Change['action'] = 'create'): Change => ({ id: 'x', kind: 'route', action, node: 'a', netns: 'a', reason: '', route });

describe('routes of other kinds', () => {
  const routes = READ.filter(isLabRoute).map((r) => parseRoute(r, 4));

  it("reads the lab's routes of every table and type, and leaves the kernel's local table out", () => {
    expect(routes.map(routeKey)).toEqual(['inet table 200 10.3.0.0/16 metric 5', 'inet table 200 10.4.0.0/16 metric 0', 'inet 10.1.0.0/16 metric 0', 'inet 10.2.0.0/16 metric 0', 'inet 10.5.0.0/16 metric 0']);
    expect(routes.map(describeRoute)).toEqual([
      'unreachable 10.3.0.0/16 table 200 metric 5',
      'throw 10.4.0.0/16 table 200',
      '10.1.0.0/16 nexthop via 192.0.2.2 dev va weight 1 nexthop via 192.0.2.3 dev va weight 2',
      '10.2.0.0/16 via 169.254.1.1 dev va onlink src 192.0.2.1',
      'prohibit 10.5.0.0/16',
    ]);
  });

  it('writes each back as the command that made it: proto before the nexthops, which ip takes last', () => {
    expect(routes.map((r) => commandsOf(change({ ...r, protocol: undefined }))[0])).toEqual([
      { tool: 'ip', line: 'route replace unreachable 10.3.0.0/16 table 200 metric 5 proto 77' },
      { tool: 'ip', line: 'route replace throw 10.4.0.0/16 table 200 metric 0 proto 77' },
      { tool: 'ip', line: 'route replace 10.1.0.0/16 metric 0 proto 77 nexthop via 192.0.2.2 dev va weight 1 nexthop via 192.0.2.3 dev va weight 2' },
      { tool: 'ip', line: 'route replace 10.2.0.0/16 via 169.254.1.1 dev va onlink src 192.0.2.1 metric 0 proto 77' },
      { tool: 'ip', line: 'route replace prohibit 10.5.0.0/16 metric 0 proto 77' },
    ]);
    expect(commandsOf(change(routes[2]!, 'delete'))).toEqual([{ tool: 'ip', line: 'route del 10.1.0.0/16 metric 0' }]);
  });

  it('gives an IPv6 blackhole no device, though the kernel names lo', () => {
    expect(parseRoute({ type: 'blackhole', dst: '2001:db8:9::/48', dev: 'lo', table: 'main', protocol: '77', metric: 1024 }, 6)).toEqual({ family: 6, protocol: '77', to: '2001:db8:9::/48', via: undefined, dev: undefined, metric: 1024, type: 'blackhole' });
  });

  it('finds a changed type, weight, onlink or source a difference, and the order of nexthops none', () => {
    const node = (route: RouteState) => {
      const n = emptyNode('a', 'a', true);
      n.routes.set(routeKey(route), route);
      return n;
    };
    const emitted = (want: RouteState, have: RouteState) => {
      const out: string[] = [];
      routeResource.diff({ lab: 'l', desired: { lab: 'l', nodes: new Map() }, actual: { lab: 'l', nodes: new Map() }, want: node(want), current: node(have), present: new Set(), links: { recreated: new Set(), gone: new Set(), deletedAddresses: [] }, facts: { sysctlOriginals: {}, interfaceSysctls: {}, sysctlsHeldByOthers: new Map(), nftFingerprints: {} }, emit: (c) => out.push(`${c.action} ${c.reason}`) });
      return out;
    };
    const multipath = routes[2]!;
    expect(emitted(multipath, { ...multipath, nexthops: [...multipath.nexthops!].reverse() })).toEqual([]);
    expect(emitted(multipath, { ...multipath, nexthops: [multipath.nexthops![0]!, { ...multipath.nexthops![1]!, weight: 1 }] })).toHaveLength(1);
    expect(emitted(routes[4]!, { ...routes[4]!, type: 'blackhole' })).toEqual(['update route blackhole 10.5.0.0/16 → prohibit 10.5.0.0/16']);
    expect(emitted(routes[3]!, { ...routes[3]!, onlink: undefined })).toHaveLength(1);
    expect(emitted(routes[3]!, { ...routes[3]!, src: '192.0.2.9' })).toHaveLength(1);
    expect(emitted(routes[3]!, routes[3]!)).toEqual([]);
  });
});
