/**
 * WebSocket pings that keep a browser's STOMP session alive while its tab is in the background.
 *
 * Browsers throttle timers in hidden tabs (Chrome: once a minute after five minutes), so @stomp/stompjs's
 * outgoing heart-beats arrive late and the session would drop a client that is perfectly alive. The browser's
 * network stack answers a WebSocket ping with a pong without running any page script, and the session counts
 * any inbound octet as liveness; a pong is fed to it as such. So once a client has been silent for a whole
 * heart-beat interval (it is late), the server pings it: a live socket is never dropped, a dead one still is,
 * and a client that heart-beats on time is never pinged at all.
 *
 * The check runs four times per interval and only reads a flag, so the inbound path never touches a timer: the
 * ping goes out 1 to 1.25 intervals after the last inbound octet, inside the session's deadline of one interval
 * plus its grace (at least 1 s or half the interval).
 */
export interface PingTarget {
  ping(): void;
}

const TICKS_PER_INTERVAL = 4;
/** However short an interval a client asks for, the check runs no more often than this. */
const MIN_TICK_MS = 50;

export class Keepalive {
  private heard = false;
  private silentTicks = 0;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(private readonly target: PingTarget) {}

  /** The client promised a heart-beat every `clientSendsEvery` ms (0: none, so no liveness to keep). */
  start(clientSendsEvery: number): void {
    if (clientSendsEvery <= 0 || this.timer !== undefined) return;
    const tick = Math.max(MIN_TICK_MS, Math.floor(clientSendsEvery / TICKS_PER_INTERVAL));
    this.timer = setInterval(() => {
      if (this.heard) {
        this.heard = false;
        this.silentTicks = 0;
      } else if (++this.silentTicks >= TICKS_PER_INTERVAL) {
        // Again on every tick until something arrives: one lost pong must not cost the session.
        this.target.ping();
      }
    }, tick);
    this.timer.unref();
  }

  /** Anything arrived from the client: a message, a ping or a pong. */
  heardFromPeer(): void {
    this.heard = true;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * How often the client promised to send, read from the server's CONNECTED frame (`heart-beat:sx,sy`: the server
 * expects the client every sy ms). Reading what the session wrote keeps heart-beat negotiation in one place.
 * 0 for any other first frame (an ERROR) or no heart-beat.
 */
export function clientInterval(firstMessage: readonly Buffer[]): number {
  const head = firstMessage[0];
  if (head === undefined || !head.subarray(0, 10).toString('latin1').startsWith('CONNECTED')) return 0;
  // CONNECTED has no body: the whole frame is its headers.
  const match = /\nheart-beat:(\d+),(\d+)\r?\n/.exec(Buffer.concat(firstMessage).toString('utf8'));
  return match === null ? 0 : Number(match[2]);
}
