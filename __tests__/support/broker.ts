import { BrokerWorld, type WorldOptions } from '../../harness/broker-world.js';
import { virtualClock } from './clock.js';

export { AUDIENCE, BROKER_ENTRY, BrokerWorld, DEFAULT_JOB, defaultPolicies, hasSqlite, newLease, type Answer } from '../../harness/broker-world.js';

/**
 * The broker in this process on a virtual clock that starts now (TLS certificates and the emulator are real), or its
 * bundle in a child process on the system clock (`process: true`).
 */
export function startWorld(o: WorldOptions = {}): Promise<BrokerWorld> {
  return BrokerWorld.start(o.process ? o : { ...o, clock: virtualClock(new Date().toISOString()) });
}
