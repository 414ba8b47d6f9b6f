// Kernel features a lab's keys may need (netem, 802.1Q, VRF, ...) and how to ask the kernel for
// each: a probe that makes the object once in a network namespace of its own. Resources say what
// they need (Resource.needs); kernel/features.ts asks.

export type FeatureId = 'netem' | 'vlan' | 'vlan-filtering' | 'vrf' | 'dummy' | 'bond' | 'gre' | 'ipip' | 'wireguard' | 'macvlan' | 'vxlan';

export interface KernelFeature {
  /** What the kernel needs, as the refusal names it. */
  needs: string;
  /** A shell script run in a network namespace of its own; exit 0 when the kernel has the feature. */
  probe: string;
}

/**
 * A veth end to stack a child interface on. Every name follows `name`: ip takes a bare word that
 * begins a keyword for it (`b` is `broadcast`).
 */
const PARENT = 'ip link add name p type veth peer name q';

export const FEATURES: Readonly<Record<FeatureId, KernelFeature>> = {
  netem: { needs: 'the netem queueing discipline (module sch_netem, CONFIG_NET_SCH_NETEM)', probe: 'tc qdisc add dev lo root netem delay 1ms' },
  vlan: { needs: '802.1Q VLAN support (module 8021q, CONFIG_VLAN_8021Q)', probe: `${PARENT} && ip link add link p name p.1 type vlan id 1` },
  'vlan-filtering': { needs: 'VLAN filtering on bridges (CONFIG_BRIDGE_VLAN_FILTERING)', probe: 'ip link add name b type bridge vlan_filtering 1' },
  vrf: { needs: 'VRF devices (module vrf, CONFIG_NET_VRF)', probe: 'ip link add name v type vrf table 10' },
  dummy: { needs: 'dummy interfaces (module dummy, CONFIG_DUMMY)', probe: 'ip link add name d type dummy' },
  bond: { needs: 'bonding (module bonding, CONFIG_BONDING)', probe: 'ip link add name b type bond' },
  gre: { needs: 'GRE tunnels (module ip_gre, CONFIG_NET_IPGRE)', probe: 'ip link add name g type gre local 192.0.2.1 remote 192.0.2.2' },
  ipip: { needs: 'IPIP tunnels (module ipip, CONFIG_NET_IPIP)', probe: 'ip link add name t type ipip local 192.0.2.1 remote 192.0.2.2' },
  wireguard: { needs: 'WireGuard (module wireguard, CONFIG_WIREGUARD)', probe: 'ip link add name w type wireguard' },
  macvlan: { needs: 'macvlan interfaces (module macvlan, CONFIG_MACVLAN)', probe: `${PARENT} && ip link add link p name m type macvlan mode bridge` },
  vxlan: { needs: 'VXLAN (module vxlan, CONFIG_VXLAN)', probe: 'ip link add name x type vxlan id 1 dstport 4789' },
};

/** One object of the file that needs a feature: `r1:eth0.10`, by its key `kind vlan`. */
export interface FeatureNeed {
  feature: FeatureId;
  object: string;
  key: string;
}
