export { fuzz, withTargets, type FuzzOptions, type FuzzResult } from './run';
export { allTargets } from './targets';
export { InvariantBroken, type FuzzTarget } from './target';
export { mutate } from './targets/amqp-frames';
