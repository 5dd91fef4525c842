/**
 * The WebSocket subprotocols of STOMP, as registered at IANA and offered by @stomp/stompjs: `v10.stomp`,
 * `v11.stomp`, `v12.stomp`. RabbitMQ's Web-STOMP answers with the highest one the client offers and with no
 * Sec-WebSocket-Protocol at all when the client offers none of them; STOMP's own CONNECT negotiation then picks
 * the version either way (the subprotocol never limits it).
 */
export const STOMP_SUBPROTOCOLS: readonly string[] = ['v12.stomp', 'v11.stomp', 'v10.stomp'];

/** The subprotocol to answer with, or false for none (ws then sends no Sec-WebSocket-Protocol header). */
export function chooseSubprotocol(offered: ReadonlySet<string>): string | false {
  for (const p of STOMP_SUBPROTOCOLS) if (offered.has(p)) return p;
  return false;
}
