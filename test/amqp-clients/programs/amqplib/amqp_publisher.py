# Seeds 000/002 ("Rabbits and Warrens", Jason J. W. Williams 2009, via its Chinese translation), the publisher (amqp_publisher.py).
# The code is the article's, with py-amqplib (`from amqplib import client_0_8 as amqp`, mapped onto Debian's
# py-amqp by ../../shims/amqplib). Changes: the broker address comes from AMQP_HOST/AMQP_PORT instead of
# "localhost:5672 " (so `import os`); Python 2 print statements become print() calls.
import os
from amqplib import client_0_8 as amqp
conn = amqp.Connection(host=os.environ["AMQP_HOST"] + ":" + os.environ["AMQP_PORT"], userid="guest",
password="guest", virtual_host="/", insist=False)
chan = conn.channel()

msg = amqp.Message("Test message!")
msg.properties["delivery_mode"] = 2
chan.basic_publish(msg,exchange="sorting_room",routing_key="jason")

chan.close()
conn.close()
