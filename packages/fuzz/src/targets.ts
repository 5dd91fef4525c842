import type { EscapeWatch } from './escapes';
import type { FuzzTarget } from './target';
import { amqpFramesTarget } from './targets/amqp-frames';
import { amqpSessionTarget } from './targets/amqp-session';
import { fieldTableTarget } from './targets/field-table';
import { selectorTarget } from './targets/selector';
import { stompParserTarget } from './targets/stomp-parser';
import { stompSessionTarget } from './targets/stomp-session';
import { wsFramingTarget } from './targets/ws-framing';

/** Every fuzz target, by name, in the order `all` runs them. */
export function allTargets(watch: EscapeWatch): FuzzTarget<unknown>[] {
  return [
    erase(amqpFramesTarget(watch)),
    erase(amqpSessionTarget(watch)),
    erase(fieldTableTarget),
    erase(stompParserTarget),
    erase(stompSessionTarget(watch)),
    erase(selectorTarget),
    erase(wsFramingTarget(watch)),
  ];
}

/** A target's input type matters only between its own arbitrary and run, which always come as a pair. */
function erase<T>(target: FuzzTarget<T>): FuzzTarget<unknown> {
  return target as unknown as FuzzTarget<unknown>;
}
