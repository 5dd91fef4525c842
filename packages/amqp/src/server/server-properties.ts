import type { FieldTable } from '@warren/core';

/**
 * What connection.start tells the client about the server. Clients read `capabilities` to decide what they
 * may use (pika checks publisher_confirms and consumer_cancel_notify, amqplib connection.blocked); these are
 * the RabbitMQ extensions Warren implements. `product` and `version` are what the operator chose to advertise
 * (product.name, product.version): some clients and monitors branch on them.
 */
export function serverProperties(product: string, version: string): FieldTable {
  return {
    product,
    version,
    platform: `Node.js ${process.version}`,
    copyright: 'Warren contributors',
    information: 'Licensed under the MIT licence',
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      consumer_priorities: true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: true,
    },
  };
}

/** The client capabilities the server acts on (from connection.start-ok client-properties). */
export interface ClientCapabilities {
  consumerCancelNotify: boolean;
  connectionBlocked: boolean;
}

export function clientCapabilities(clientProperties: FieldTable): ClientCapabilities {
  const caps = clientProperties['capabilities'];
  const table =
    typeof caps === 'object' && caps !== null && !Array.isArray(caps) && !Buffer.isBuffer(caps)
      ? (caps as FieldTable)
      : {};
  return {
    consumerCancelNotify: table['consumer_cancel_notify'] === true,
    connectionBlocked: table['connection.blocked'] === true,
  };
}
