// Where namespaces, their per-namespace files and netlab's records live.

import { RUN_NETNS } from '../model/paths.js';

export { ETC_NETNS, RUN_NETNS } from '../model/paths.js';

/** The labs' records. Under /run, so like the namespaces they do not outlive a reboot. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NETLAB_STATE_DIR ?? '/run/netlab';
}

export function netnsPath(netns: string): string {
  return `${RUN_NETNS}/${netns}`;
}
