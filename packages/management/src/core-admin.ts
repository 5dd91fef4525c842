import type { Broker, Channel, Connection, Permission, User, UserRegistry } from '@warren/core';

/*
 * The live-administration API the core gains on the core-admin branch, merged alongside this package. Until
 * then these declarations describe it, so this package is written against it as it will be; each `admin*`
 * view below is a plain cast and does nothing at run time. Once the core declares these members itself the
 * intersections are no-ops and this file can shrink to its re-exports.
 */

export interface TopicPermission {
  exchange: string;
  write: string;
  read: string;
}

export interface AdminUserRegistry extends UserRegistry {
  changePassword(name: string, password: string): void;
  setTags(name: string, tags: string[]): void;
  addHashed(name: string, passwordHash: string, tags?: string[], algorithm?: string): User;
  clearPermissions(user: string, vhost: string): void;
  setTopicPermissions(user: string, vhost: string, permission: TopicPermission): void;
  clearTopicPermissions(user: string, vhost: string, exchange?: string): void;
  listTopicPermissions(): { user: string; vhost: string; permission: TopicPermission }[];
}

export interface AdminBroker extends Broker {
  readonly users: AdminUserRegistry;
  findConnection(name: string): Connection | undefined;
  deleteUser(name: string): boolean;
  exportDefinitions(vhost?: string): object;
  importDefinitions(definitions: unknown, vhost?: string): void;
}

export interface AdminConnection extends Connection {
  readonly name: string;
  readonly stats?: { recvOct?: number; sendOct?: number; recvCnt?: number; sendCnt?: number };
  forceClose(reason: string): void;
}

export interface ChannelStats {
  published: number;
  delivered: number;
  acked: number;
  redelivered: number;
}

export type AdminChannel = Channel & { readonly stats?: ChannelStats };
export type AdminUser = User & { readonly hashingAlgorithm?: string };
export type { Permission };

export const admin = (broker: Broker): AdminBroker => broker as AdminBroker;
export const adminConnection = (c: Connection): AdminConnection => c as AdminConnection;
export const adminChannel = (ch: Channel): AdminChannel => ch as AdminChannel;
export const adminUser = (u: User): AdminUser => u as AdminUser;
