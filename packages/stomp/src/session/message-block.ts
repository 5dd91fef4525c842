import type { Message } from '@warren/core';
import { encodeHeaderBlock } from '../codec/serializer';
import { escapeHeader } from '../codec/escape';
import type { StompVersion } from '../codec/frame';
import { destinationOf } from '../mapping/destination';
import { headersFromProperties } from '../mapping/headers';

/** What every subscriber's MESSAGE for one message shares, per version. */
export interface MessageBlock {
  /** The encoded `destination:...\n` line (RabbitMQ writes it second, after subscription). */
  readonly destinationLine: string;
  /** Mapped headers, content-length and the blank line: encodeHeaderBlock's output. */
  readonly block: Buffer;
}

/**
 * Message-level headers are encoded once per message and shared by every subscriber it fans out to
 * (DESIGN §2). A fan-out delivers one message to all its queues within one publish, so a one-entry cache per
 * version catches it without keeping any message alive past the next one.
 */
const lastMessage: (Message | undefined)[] = [undefined, undefined, undefined];
const lastBlock: (MessageBlock | undefined)[] = [undefined, undefined, undefined];

function slot(version: StompVersion): number {
  return version === '1.2' ? 2 : version === '1.1' ? 1 : 0;
}

/**
 * Throws when the message's properties cannot be decoded (they are decoded here, on first use, from another
 * protocol's raw bytes); nothing is cached then. The subscription catches it and settles that one delivery.
 */
export function messageBlock(msg: Message, version: StompVersion): MessageBlock {
  const i = slot(version);
  const cached = lastBlock[i];
  if (lastMessage[i] === msg && cached !== undefined) return cached;
  const destination = escapeHeader(destinationOf(msg.exchange, msg.routingKey), version, false);
  const built: MessageBlock = {
    destinationLine: `destination:${destination}\n`,
    block: encodeHeaderBlock(headersFromProperties(msg.properties), msg.body.length, version),
  };
  lastMessage[i] = msg;
  lastBlock[i] = built;
  return built;
}
