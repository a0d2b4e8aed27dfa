/**
 * A broker among replicas on one ledger: it beats (its turn `replica:<id>`, renewed every heartbeat, kept for three),
 * and sweeps only in its turn `sweeper`, so one replica sweeps at a time.
 *
 * Bounds (with H the heartbeat and S the sweep interval): the sweeper's turn lasts 2·S + H and is renewed at each of
 * its sweeps; when its holder dies, another replica sweeps within 3·S + H. A dead replica's pending rows (creates it
 * sent whose answer it never recorded) become orphans 3·H after its last beat, and the next sweep revokes them.
 */
import type { Clock } from '../src/platform/clock.js';
import type { Ledger } from './ledger.js';

export class ReplicaPresence {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly o: { heartbeatMs: number; sweepIntervalMs: number; log: (line: string) => void },
  ) {}

  get id(): string {
    return this.ledger.replica;
  }

  /** How long a replica's beat counts. */
  get aliveMs(): number {
    return 3 * this.o.heartbeatMs;
  }

  get sweepTurnMs(): number {
    return 2 * Math.max(this.o.sweepIntervalMs, this.o.heartbeatMs) + this.o.heartbeatMs;
  }

  async beat(): Promise<void> {
    await this.ledger.takeTurn(`replica:${this.id}`, this.id, this.clock.now(), this.aliveMs);
  }

  start(): void {
    // A beat that fails (the database restarting) is logged and tried again at the next; readiness says the rest.
    this.timer = setInterval(() => void this.beat().catch((err: unknown) => this.o.log(`heartbeat failed: ${err instanceof Error ? err.message : String(err)}`)), this.o.heartbeatMs);
    this.timer.unref();
  }

  /** True when this replica may sweep now (it holds, or took, the sweeper's turn). */
  async mySweep(): Promise<boolean> {
    await this.beat();
    return this.ledger.takeTurn('sweeper', this.id, this.clock.now(), this.sweepTurnMs);
  }

  /** On a clean stop: the sweeper's turn and the beat are given up, so another replica takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ledger.releaseTurn('sweeper', this.id).catch(() => undefined);
    await this.ledger.releaseTurn(`replica:${this.id}`, this.id).catch(() => undefined);
  }
}

/**
 * Waits while a lease has creates under way at another replica (pending rows younger than the create deadline): a
 * job's post step may reach a replica other than the one still minting for it. Bounded by that deadline.
 */
export async function settledElsewhere(ledger: Ledger, lease: string, clock: Clock, deadlineMs: number): Promise<void> {
  // The bound is real time on purpose: this waits for work in another process, which a virtual clock's sleep (tests)
  // would skip past without letting it happen. The rows' ages are judged on the broker's clock, as they were written.
  const until = Date.now() + deadlineMs;
  for (;;) {
    const now = clock.now();
    const young = (await ledger.openOfLease(lease)).some((r) => r.state === 'pending' && r.createdAt > now - deadlineMs);
    if (!young || Date.now() >= until) return;
    await new Promise((res) => setTimeout(res, 100));
  }
}
