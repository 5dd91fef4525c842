/** The queue of the well-behaved client every session input shares the broker with. */
export const CONTROL_QUEUE = 'fuzz.control';

/**
 * The topic a well-behaved STOMP subscriber listens to: its queue is exclusive to it, so no hostile client can
 * delete it, yet anyone may publish to amq.topic with this key. Whatever they publish must not end its session.
 */
export const WATCHED_TOPIC = 'a.b';
