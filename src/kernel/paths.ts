// Where namespaces, their per-namespace files and netlab's records live.

/** `ip netns` keeps its namespaces here. */
export const RUN_NETNS = '/run/netns';

/** `ip netns exec` bind-mounts files from here over /etc. */
export const ETC_NETNS = '/etc/netns';

/** The labs' records. Under /run, so like the namespaces they do not outlive a reboot. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NETLAB_STATE_DIR ?? '/run/netlab';
}

export function netnsPath(netns: string): string {
  return `${RUN_NETNS}/${netns}`;
}
