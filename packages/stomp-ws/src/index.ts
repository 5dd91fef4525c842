/**
 * @warren/stomp-ws — STOMP over WebSocket, as RabbitMQ's Web-STOMP plugin serves it: a `ws` server that runs
 * @warren/stomp's session behind a WebSocket transport, plus a small demo page built on @stomp/stompjs.
 */
export { listenStompWs, type StompWsListener, type StompWsListenerOptions } from './listener';
export { WebSocketTransport, type WebSocketTransportOptions } from './transport';
export { chooseSubprotocol, STOMP_SUBPROTOCOLS } from './subprotocol';
export { clientInterval, Keepalive } from './keepalive';
