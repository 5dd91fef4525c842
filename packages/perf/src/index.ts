/**
 * @warren/perf — warren-perf, a load generator for AMQP 0-9-1 brokers (Warren, RabbitMQ, ...): producers and
 * consumers on Warren's own codec, msgs/s and end-to-end latency percentiles.
 */
export { AmqpClient, type ConnectOptions, type ConfirmCallback, type DeliveryCallback } from './amqp-client';
export { main } from './cli';
export { Histogram } from './histogram';
export { parseOptions, parseSize, USAGE, UsageError, type AckMode, type PerfOptions } from './options';
export { formatTable, stdOutput, type Output } from './output';
export { PublishFrames, type PublishSpec } from './publish-frames';
export type { ProgressSample, RunResult } from './result';
export { runScenario, type RunHooks } from './run';
