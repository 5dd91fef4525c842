/**
 * Heart-beats both ways (STOMP 1.1 "Heart-beating"). The server answers `heart-beat:cy,cx` to the client's
 * `cx,cy`, as RabbitMQ does, so the negotiated intervals are: server -> client every cy ms, client -> server
 * every cx ms. Any inbound octet counts as liveness, not only EOLs; a peer silent for its interval plus a
 * grace margin (network jitter, a busy client) is dropped.
 *
 * One interval timer per direction; the write and read paths only set a flag, so the hot path never touches
 * a timer.
 */
export interface HeartbeatHost {
  /** Writes one EOL. */
  sendHeartbeat(): void;
  /** The peer stopped sending. */
  peerTimedOut(silentMs: number): void;
}

export class Heartbeats {
  /** Set on every write; cleared by the send timer. */
  wrote = false;
  /** Set on every inbound chunk; cleared by the receive check. */
  heard = false;
  /** While the session does not read (blocked by an alarm), silence proves nothing: nobody is dropped. */
  paused = false;
  private sendTimer: NodeJS.Timeout | undefined = undefined;
  private receiveTimer: NodeJS.Timeout | undefined = undefined;
  private lastHeard = 0;

  constructor(private readonly host: HeartbeatHost) {}

  /**
   * Starts the timers. `sendEvery`: 0 for none. `expectEvery`: 0 for none; the peer is dropped after
   * `expectEvery + graceMs` without a single octet.
   */
  start(sendEvery: number, expectEvery: number, graceMs: number): void {
    if (sendEvery > 0) {
      // Ticks at half the interval: a tick that finds the flag set only clears it, one that finds it clear
      // sends. Output (frames or EOLs) is then never more than one interval apart; checking once per interval
      // would allow nearly two, which a client that allows exactly 2x (stompjs) would call dead.
      this.sendTimer = setInterval(
        () => {
          if (this.wrote) {
            this.wrote = false;
          } else {
            this.host.sendHeartbeat();
            this.wrote = true;
          }
        },
        Math.max(1, sendEvery >> 1),
      );
      this.sendTimer.unref();
    }
    if (expectEvery > 0) {
      const limit = expectEvery + graceMs;
      this.lastHeard = Date.now();
      // Checked several times per interval so a dead peer is noticed soon after its deadline.
      const check = Math.max(10, Math.min(expectEvery, graceMs) >> 1);
      this.receiveTimer = setInterval(() => {
        const now = Date.now();
        if (this.heard || this.paused) {
          this.heard = false;
          this.lastHeard = now;
        } else if (now - this.lastHeard > limit) {
          this.stop();
          this.host.peerTimedOut(now - this.lastHeard);
        }
      }, check);
      this.receiveTimer.unref();
    }
  }

  stop(): void {
    if (this.sendTimer !== undefined) clearInterval(this.sendTimer);
    if (this.receiveTimer !== undefined) clearInterval(this.receiveTimer);
    this.sendTimer = undefined;
    this.receiveTimer = undefined;
  }
}
