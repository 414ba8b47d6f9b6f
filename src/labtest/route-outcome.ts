// What `ip -j route get` chose, against what a route test expects. Pure: fed by its exit code
// and output.
import type { RunResult } from '../kernel/runner.js';
import { canonicalIp } from '../model/ip.js';
import type { Outcome } from './outcome.js';
import { routeText, type RouteCheck } from './resolve.js';

/** The fields of `ip -j route get` that a route test reads. */
interface RouteGetJson {
  type?: string;
  gateway?: string;
  dev?: string;
  prefsrc?: string;
}

/** "via 192.0.2.254 dev eth0", "dev eth0 (no gateway)", "a blackhole route". */
function chosenText(route: RouteGetJson): string {
  if (route.type !== undefined && route.type !== 'unicast' && route.type !== 'local') return `a ${route.type} route`;
  const via = route.gateway === undefined ? undefined : canonicalIp(route.gateway);
  const text = routeText({ via, dev: route.dev });
  return via === undefined ? `${text} (no gateway)` : text;
}

/**
 * success: the kernel chose the test's via and dev (those it names); fail: another route, or none
 * ("network is unreachable"); error: ip could not answer for another reason.
 */
export function classifyRouteGet(result: RunResult, check: RouteCheck): Outcome {
  const expected = routeText(check);
  if (result.exitCode !== 0) {
    const message = result.stderr.trim().split('\n').pop()?.replace(/^RTNETLINK answers: /, '') ?? '';
    if (/network is unreachable|no route to host/i.test(message)) return { got: 'fail', why: `the kernel has no route (${message.toLowerCase()}), not ${expected}` };
    return { got: 'error', why: `ip route get could not answer (exit ${result.exitCode}): ${message || 'no message'}` };
  }
  let route: RouteGetJson | undefined;
  try {
    route = (JSON.parse(result.stdout) as RouteGetJson[])[0];
  } catch {
    route = undefined;
  }
  if (!route) return { got: 'error', why: `ip route get printed no route: ${JSON.stringify(result.stdout.trim().slice(0, 60))}` };
  const chosen = chosenText(route);
  const routed = route.type === undefined || route.type === 'unicast' || route.type === 'local';
  const via = route.gateway === undefined ? undefined : canonicalIp(route.gateway);
  const matches = routed && (check.via === undefined || check.via === via) && (check.dev === undefined || check.dev === route.dev);
  const source = route.prefsrc ? `, source ${route.prefsrc}` : '';
  return matches ? { got: 'success', why: `the kernel chose ${chosen}${source}` } : { got: 'fail', why: `the kernel chose ${chosen}, not ${expected}` };
}
