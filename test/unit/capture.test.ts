// netlab capture's argv: tcpdump in the node's namespace, guarded by a parent-death signal.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseNodeInterface, tcpdumpArgv } from '../../src/capture/tcpdump.js';

describe('capture', () => {
  it('runs tcpdump in the namespace, line-buffered, with the filter as one argument', () => {
    expect(tcpdumpArgv({ nsPath: '/run/netns/host', iface: 'eth0', filter: 'icmp or tcp port 80', count: 5 })).toEqual([
      'nsenter', '--net=/run/netns/host', 'setpriv', '--pdeathsig', 'KILL', 'tcpdump', '-i', 'eth0', '-n', '-Z', 'root', '-l', '-c', '5', '--', 'icmp or tcp port 80',
    ]);
  });

  it('writes a pcap packet by packet; the root namespace needs no nsenter', () => {
    expect(tcpdumpArgv({ nsPath: null, iface: 'br0', write: 'out.pcap' })).toEqual(['setpriv', '--pdeathsig', 'KILL', 'tcpdump', '-i', 'br0', '-n', '-Z', 'root', '-U', '-w', 'out.pcap']);
  });

  it('reads NODE:INTERFACE, and says what it wants otherwise', () => {
    expect(parseNodeInterface('host:eth0')).toEqual({ node: 'host', iface: 'eth0' });
    expect(() => parseNodeInterface('host')).toThrow(new UserError('"host" is not NODE:INTERFACE (for example host:eth0)'));
  });
});
