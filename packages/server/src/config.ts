import type { Limits } from '@warren/core';

/**
 * Where one listener binds. The default host '::' accepts IPv6 and, through IPv4-mapped addresses, IPv4 too
 * (Linux sockets are dual-stack unless net.ipv6.bindv6only is set); use '0.0.0.0' on a host without IPv6.
 */
export interface Endpoint {
  host: string;
  /** 0 asks the OS for a free port; the listener reports the one it got. */
  port: number;
}

export interface WebSocketEndpoint extends Endpoint {
  /** The HTTP path a STOMP-over-WebSocket client upgrades on (RabbitMQ's Web STOMP uses /ws). */
  path: string;
  /** Send every frame as a binary WebSocket message (by default text, binary only for non-UTF-8 bodies). */
  binaryFrames: boolean;
  /** permessage-deflate; off by default (it costs CPU and memory per connection). */
  compression: boolean;
  /** Origins allowed to open a WebSocket; empty allows any (and requests without Origin always pass). */
  allowedOrigins: string[];
}

export interface UserCredentials {
  name: string;
  password: string;
}

/** pino's levels; 'silent' turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface WarrenConfig {
  amqp: Endpoint;
  stomp: Endpoint;
  ws: WebSocketEndpoint;
  http: Endpoint;
  /** Absolute once loaded, so every log line names the same directory whatever the cwd later is. */
  dataDir: string;
  logLevel: LogLevel;
  /** Overrides of the core's bounds; anything left out keeps its DEFAULT_LIMITS value. */
  limits: Partial<Limits>;
  /** Created on first start when no users exist, as RabbitMQ creates guest/guest. */
  defaultUser: UserCredentials;
  /** Users allowed to log in only from the loopback interface (RabbitMQ's loopback_users). */
  loopbackUsers: string[];
  /**
   * RabbitMQ's disk_free_limit in bytes: below it on the data directory's file system, publishers are blocked
   * (AMQP connection.blocked) until space returns. 0 turns the check off.
   */
  diskFreeLimit: number;
  /**
   * How long a SIGTERM or SIGINT waits for the graceful close (listeners, clients, the final journal flush)
   * before the process logs what it is still waiting for and exits 1 anyway.
   */
  shutdownTimeoutMs: number;
}

/**
 * Below Docker's 10 s between `docker stop`'s SIGTERM and its SIGKILL, so the line saying what a slow
 * shutdown was waiting for is written before the container is killed. A healthy broker closes in well under
 * a second: the store is flushed after every event-loop turn anyway.
 */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 8000;

const ALL_INTERFACES = '::';

/** A fresh copy of the built-in defaults; callers may mutate it. */
export function defaultConfig(): WarrenConfig {
  return {
    amqp: { host: ALL_INTERFACES, port: 5672 },
    stomp: { host: ALL_INTERFACES, port: 61613 },
    ws: {
      host: ALL_INTERFACES,
      port: 15674,
      path: '/ws',
      binaryFrames: false,
      compression: false,
      allowedOrigins: [],
    },
    http: { host: ALL_INTERFACES, port: 15672 },
    dataDir: './data',
    logLevel: 'info',
    limits: {},
    defaultUser: { name: 'guest', password: 'guest' },
    loopbackUsers: ['guest'],
    diskFreeLimit: 50_000_000,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
  };
}

/** A configuration problem the operator must fix; the message names where the bad value came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
