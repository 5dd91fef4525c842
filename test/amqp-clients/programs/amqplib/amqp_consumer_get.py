# Seeds 000/002 ("Rabbits and Warrens", Jason J. W. Williams 2009, via its Chinese translation), the consumer with basic_get (amqp_consumer.py, first way).
# The code is the article's, with py-amqplib (`from amqplib import client_0_8 as amqp`, mapped onto Debian's
# py-amqp by ../../shims/amqplib). Changes: the broker address comes from AMQP_HOST/AMQP_PORT instead of
# "localhost:5672 " (so `import os`); Python 2 print statements become print() calls.
import os
from amqplib import client_0_8 as amqp
conn = amqp.Connection(host=os.environ["AMQP_HOST"] + ":" + os.environ["AMQP_PORT"], userid="guest",
password="guest", virtual_host="/", insist=False)
chan = conn.channel()

chan.queue_declare(queue="po_box", durable=True,
exclusive=False, auto_delete=False)
chan.exchange_declare(exchange="sorting_room", type="direct", durable=True,
auto_delete=False,)

chan.queue_bind(queue="po_box", exchange="sorting_room",
routing_key="jason")

msg = chan.basic_get("po_box")
print(msg.body)
chan.basic_ack(msg.delivery_tag)

chan.close()
conn.close()
