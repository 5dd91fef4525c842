# Seed 003 (lpe234, 2014: RabbitMQ with py-amqp 1.4.6, `import amqp`), amqp_publisher.py.
# As in the seed except: the broker address comes from AMQP_HOST/AMQP_PORT instead of "localhost:5672" (so
# `import os`), the curly quotes of the seed's web page are plain quotes again, and Python 2 becomes Python 3 where
# the language forces it: print statements become print() calls, and xrange becomes range. py-amqp 1.4's connect-in-constructor and bare
# chan.wait() run on py-amqp 5.1 through ../../shims/warren_shims/amqp_14.py.
# amqp_publisher.py
# -*- coding: utf-8 -*-
__author__ = 'lpe234'
__date__ = '2014-12-15'
import os
import amqp
import json
conn = amqp.Connection(host=os.environ["AMQP_HOST"] + ":" + os.environ["AMQP_PORT"], userid="guest", password="guest", virtual_host="/", insist=False)
chan = conn.channel()
for x in range(10):
    msg = json.dumps({'id': str(x)+'111', 'lists': [{'id': 12345}, {'id': 12345}, {'id': 15656}, {'id': '4545'}, ]})
    print(msg)
    msg = amqp.Message(msg)
    msg.properties["delivery_mode"] = 2
    chan.basic_publish(msg, exchange="sorting_room", routing_key="1111")
chan.close()
conn.close()
