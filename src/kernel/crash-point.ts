// Test-only: the crash tests (test/integration/crash-points.test.ts) kill a run at an exact step,
// between two changes that must both happen, to prove the next run recovers from what is left.
// NETLAB_CRASH_AT=<point> makes the process SIGKILL itself when it reaches that point; unset, as
// in every real run, nothing happens.

export type CrashPoint =
  /** A run: process started, its run file not yet saying which process it is. */
  | 'run-started'
  /** The empty file at /run/netns/<name> made, the namespace not yet mounted on it. */
  | 'publish-file-made'
  /** The lab's mount at /run/netns/<name> gone, the empty file under it still there. */
  | 'unpublish-unmounted'
  /** A node's resolv.conf removed, its directory /etc/netns/<name> still there. */
  | 'resolv-conf-removed';

export function crashPoint(point: CrashPoint): void {
  if (process.env.NETLAB_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
