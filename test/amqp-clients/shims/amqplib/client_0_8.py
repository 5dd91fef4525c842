"""`from amqplib import client_0_8 as amqp` on Debian's py-amqp.

amqplib's Connection, Message and channel methods (queue_declare, exchange_declare(type=...), queue_bind, basic_get,
basic_ack, basic_consume(callback=..., no_ack=...), basic_cancel, basic_publish(msg, exchange=..., routing_key=...),
msg.properties, msg.body, msg.delivery_tag) have the same names and keywords in py-amqp. What differs is what py-amqp
2.0 changed: connecting in the constructor and the bare chan.wait(); warren_shims.amqp_14 restores those.
"""
import amqp as _amqp

from warren_shims import amqp_14 as _amqp_14

_amqp_14.patch(_amqp)

Connection = _amqp.Connection
Channel = _amqp.Channel
Message = _amqp.Message
AMQPException = _amqp.AMQPError
AMQPConnectionException = _amqp.ConnectionError
AMQPChannelException = _amqp.ChannelError
