# Seed 003 (lpe234, 2014: RabbitMQ with py-amqp 1.4.6, `import amqp`), amqp_consumer.py.
# As in the seed except: the broker address comes from AMQP_HOST/AMQP_PORT instead of "localhost:5672" (so
# `import os`), the curly quotes of the seed's web page are plain quotes again, and Python 2 becomes Python 3 where
# the language forces it: print statements become print() calls. py-amqp 1.4's connect-in-constructor and bare
# chan.wait() run on py-amqp 5.1 through ../../shims/warren_shims/amqp_14.py.
# amqp_consumer.py
# -*- coding: utf-8 -*-
__author__ = 'lpe234'
__date__ = '2014-12-15'
import os
import amqp
conn = amqp.Connection(host=os.environ["AMQP_HOST"] + ":" + os.environ["AMQP_PORT"], userid="guest", password="guest", virtual_host="/", insist=False)
chan = conn.channel()
chan.queue_declare(queue="po_box", durable=True, exclusive=False, auto_delete=False)
chan.exchange_declare(exchange="sorting_room", type="direct", durable=True, auto_delete=False, )
chan.queue_bind(queue="po_box", exchange="sorting_room", routing_key="1111")
def receive_callback(msg):
    print('Received: ' + msg.body + ' from channel #' + str(msg.channel.channel_id))
chan.basic_consume(queue='po_box', no_ack=True, callback=receive_callback, consumer_tag="consumer")
while True:
    chan.wait()
chan.basic_cancel("consumer")
chan.close()
conn.close()
