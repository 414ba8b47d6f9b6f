// A plan: the changes apply will make (one kind per resource module, src/resources/) and the
// conflicts that make it refuse.
import type { Change } from '../resources/change.js';
import type { Unnamed } from '../resources/resource.js';

export type { Change, ChangeKind, ChangeOf } from '../resources/change.js';
export type { Action } from '../resources/resource.js';
export type { LinkSettings } from '../resources/link-settings.js';
export type { NftDetail } from '../resources/nftables.js';
export { compareChanges, KIND_ORDER } from '../resources/registry.js';

/** A change before it has its id. */
export type NewChange = Unnamed<Change>;

/** A namespace the lab would use that something else owns. Apply refuses while any exists. */
export interface Conflict {
  node: string;
  netns: string | null;
  reason: string;
}

export interface Plan {
  lab: string;
  changes: Change[];
  conflicts: Conflict[];
}
