"""pika 0.x call forms on pika 1.x's BlockingChannel.

The seed tutorials were written for pika 0.9-0.11, whose BlockingChannel took
    basic_consume(consumer_callback, queue='', no_ack=False, exclusive=False, consumer_tag=None, arguments=None)
    exchange_declare(exchange=None, exchange_type='direct', ..., type=None)     # 'type' was the old keyword
    queue_declare(queue='', ...)                                                 # queue was optional
    basic_get(queue=None, no_ack=False)
pika 1.0 renamed and reordered these (on_message_callback, auto_ack, exchange_type, queue required). Each wrapper
below renames the arguments and calls the real method; calls already in the 1.x form pass through untouched.
"""
from warren_shims import trace

_CONSUME_0X = ("consumer_callback", "queue", "no_ack", "exclusive", "consumer_tag", "arguments")


def patch(pika):
    from pika.adapters import blocking_connection

    channel_class = blocking_connection.BlockingChannel
    if getattr(channel_class, "_warren_pika_0x", False):
        return
    channel_class._warren_pika_0x = True

    real_basic_consume = channel_class.basic_consume
    real_exchange_declare = channel_class.exchange_declare
    real_queue_declare = channel_class.queue_declare
    real_basic_get = channel_class.basic_get

    def basic_consume(self, *args, **kwargs):
        if args and callable(args[0]):
            kwargs.update(zip(_CONSUME_0X, args))
            args = ()
        if "consumer_callback" in kwargs:
            kwargs["on_message_callback"] = kwargs.pop("consumer_callback")
        if "no_ack" in kwargs:
            kwargs["auto_ack"] = kwargs.pop("no_ack")
        if not args:
            kwargs.setdefault("queue", "")
        consumer_tag = real_basic_consume(self, *args, **kwargs)
        trace("basic.consume-ok consumer_tag=%s queue=%s", consumer_tag, kwargs.get("queue", args[0] if args else ""))
        return consumer_tag

    def exchange_declare(self, *args, **kwargs):
        if "type" in kwargs:
            kwargs["exchange_type"] = kwargs.pop("type")
        return real_exchange_declare(self, *args, **kwargs)

    def queue_declare(self, *args, **kwargs):
        if not args:
            kwargs.setdefault("queue", "")
        frame = real_queue_declare(self, *args, **kwargs)
        trace(
            "queue.declare-ok queue=%s message_count=%s consumer_count=%s",
            frame.method.queue,
            frame.method.message_count,
            frame.method.consumer_count,
        )
        return frame

    def basic_get(self, *args, **kwargs):
        if "no_ack" in kwargs:
            kwargs["auto_ack"] = kwargs.pop("no_ack")
        return real_basic_get(self, *args, **kwargs)

    channel_class.basic_consume = basic_consume
    channel_class.exchange_declare = exchange_declare
    channel_class.queue_declare = queue_declare
    channel_class.basic_get = basic_get
