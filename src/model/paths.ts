// Where `ip netns` keeps namespaces and their per-namespace files: facts of iproute2, not IO.

/** `ip netns` keeps its namespaces here. */
export const RUN_NETNS = '/run/netns';

/** `ip netns exec` bind-mounts files from here over /etc. */
export const ETC_NETNS = '/etc/netns';
