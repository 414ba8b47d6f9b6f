// Says once, for the whole lane, why it is skipped where the VM cannot run; each file skips itself.
import { vmUnavailable } from './vm.js';

export default function setup(): void {
  const why = vmUnavailable();
  if (why) console.warn(why);
}
