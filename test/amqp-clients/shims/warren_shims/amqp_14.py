"""py-amqp 1.4 (and py-amqplib 0.x) call forms on py-amqp 5.

Two things changed under the seed programs:
  * amqp.Connection(...) used to open the connection in its constructor; since py-amqp 2.0 the caller must call
    connect(). The wrapper connects at the end of __init__ (connect() is a no-op once connected, so code that calls
    it again still works).
  * channel.wait() with no argument used to wait for whatever the broker sends next (a delivery, in the seeds'
    `while True: chan.wait()` loops); since 2.0, wait() requires the method to wait for. A bare wait() now drains
    the next event from the connection, which dispatches deliveries to the basic_consume callbacks as before.
"""
from warren_shims import trace


def patch(amqp):
    if getattr(amqp, "_warren_amqp_14", False):
        return
    amqp._warren_amqp_14 = True

    connection_class = amqp.Connection
    channel_class = amqp.Channel
    real_init = connection_class.__init__
    real_wait = channel_class.wait
    real_basic_consume = channel_class.basic_consume
    real_queue_declare = channel_class.queue_declare

    def __init__(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.connect()

    def wait(self, *args, **kwargs):
        if not args and not kwargs:
            return self.connection.drain_events()
        return real_wait(self, *args, **kwargs)

    def basic_consume(self, *args, **kwargs):
        consumer_tag = real_basic_consume(self, *args, **kwargs)
        trace("basic.consume-ok consumer_tag=%s queue=%s", consumer_tag, kwargs.get("queue", args[0] if args else ""))
        return consumer_tag

    def queue_declare(self, *args, **kwargs):
        ok = real_queue_declare(self, *args, **kwargs)
        if ok is not None:
            trace("queue.declare-ok queue=%s message_count=%s consumer_count=%s", ok.queue, ok.message_count,
                  ok.consumer_count)
        return ok

    connection_class.__init__ = __init__
    channel_class.wait = wait
    channel_class.basic_consume = basic_consume
    channel_class.queue_declare = queue_declare
