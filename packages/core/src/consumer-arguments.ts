import { WarrenError } from './errors';
import type { FieldTable } from './field-table';
import { QUEUE_TYPE_MODULE, type QueueType } from './queue-arguments';

/**
 * Per queue type, the basic.consume arguments it takes: RabbitMQ 3.10's `consumer_arguments` capability of
 * each type. One that another type takes is refused (rabbit_amqqueue:check_consume_arguments): x-stream-offset
 * on a classic queue, x-priority on a stream. Arguments no type knows are ignored, as RabbitMQ ignores them.
 */
const CONSUMER_ARGUMENTS: Record<QueueType, readonly string[]> = {
  classic: ['x-cancel-on-ha-failover', 'x-priority', 'x-credit'],
  quorum: ['x-priority', 'x-credit'],
  stream: ['x-stream-offset', 'x-credit'],
};
const KNOWN = new Set(Object.values(CONSUMER_ARGUMENTS).flat());

export function checkConsumerArguments(type: QueueType, args: FieldTable, where: string): void {
  const allowed = CONSUMER_ARGUMENTS[type];
  for (const key of Object.keys(args)) {
    if (KNOWN.has(key) && !allowed.includes(key)) {
      throw new WarrenError(
        'PRECONDITION_FAILED',
        `invalid arg '${key}' for ${where} of queue type ${QUEUE_TYPE_MODULE[type]}`,
      );
    }
  }
}
