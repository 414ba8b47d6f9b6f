// In a namespace the lab does not own, which objects of a kind with a protocol field (routes,
// rules, neighbour entries) are the lab's. Pure.
import { ROUTE_PROTOCOL } from '../model/names.js';

/**
 * The lab's: marked with netlab's protocol and listed by the lab's record or asked for by the file
 * (another lab marks its own the same way). One the file asks for that is not the lab's stands in
 * its way: a conflict, said by `inTheWay`.
 */
export function markedObjects<T extends { protocol?: string }>(
  have: ReadonlyMap<string, T>,
  wanted: ReadonlyMap<string, unknown>,
  recorded: ReadonlySet<string>,
  inTheWay: (object: T) => string,
): { mine: Map<string, T>; conflicts: string[] } {
  const mine = new Map<string, T>();
  const conflicts: string[] = [];
  for (const [key, object] of have) {
    if (object.protocol === ROUTE_PROTOCOL && (recorded.has(key) || wanted.has(key))) mine.set(key, object);
    else if (wanted.has(key)) conflicts.push(inTheWay(object));
  }
  return { mine, conflicts };
}
