/**
 * A STOMP session runs over the core's Transport (see @warren/core transport.ts): the TCP listener hands it a
 * SocketTransport, @warren/stomp-ws a WebSocket, tests an in-memory one, so all run the very same session.
 */
export type { Transport } from '@warren/core';
