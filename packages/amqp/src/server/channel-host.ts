import type { Connection, Limits, Logger, WarrenError } from '@warren/core';
import type { FrameWriter } from '../codec/frame-writer';
import type { Method } from '../codec/generated/methods';
import type { ParkedFrame } from './parked-frames';
import type { ClientCapabilities } from './server-properties';

/**
 * What an AmqpChannel needs from the connection that carries it. AmqpConnection implements it; naming it here
 * keeps the channel from importing the connection (which creates channels), so the two files do not import
 * each other.
 */
export interface ChannelHost {
  /** The core connection, present once connection.open has succeeded (channels exist only after that). */
  readonly core: Connection | undefined;
  readonly limits: Limits;
  readonly log: Logger;
  readonly writer: FrameWriter;
  readonly capabilities: ClientCapabilities;
  /** The outbound batch, for frame writers that append many chunks; call scheduleFlush after. */
  readonly outbound: Buffer[];
  send(channel: number, m: Method): void;
  scheduleFlush(): void;
  sendChannelClose(channel: number, err: WarrenError, m?: Method): void;
  sendChannelCloseOk(channel: number): void;
  /** A channel finished its close handshake; its number may be reused. */
  forgetChannel(id: number): void;
  /** A publish arrived: stop reading this connection if a resource alarm is raised. */
  blockIfAlarm(): void;
  /** Runs `fn` on this connection's behalf from outside its input handler (a settled claim). */
  guard(fn: () => void): void;
  /** A failure of `channel` outside its frame handler (a rejected claim): its usual channel or connection close. */
  failChannel(channel: number, e: unknown, m?: Method): void;
  /** Feeds a parked channel's frames through the frame handlers again, in order (its claim settled). */
  replayParked(channel: number, frames: readonly ParkedFrame[]): void;
  /** Parked frames dropped unreplayed (the channel failed or closed): their bytes no longer count. */
  releaseParked(frames: readonly ParkedFrame[]): void;
}
