# Seeds 000/002 ("Rabbits and Warrens", Jason J. W. Williams 2009, via its Chinese translation), the consumer with basic_consume, made to reach its basic_cancel.
# The code is the article's, with py-amqplib (`from amqplib import client_0_8 as amqp`, mapped onto Debian's
# py-amqp by ../../shims/amqplib). Changes: the broker address comes from AMQP_HOST/AMQP_PORT instead of
# "localhost:5672 " (so `import os`); Python 2 print statements become print() calls. The article's `while True: chan.wait()` never ends, so the
# basic_cancel it shows is never reached (the article says so); here the loop stops after the number of messages
# in argv[1], so that chan.basic_cancel("testtag"), chan.close() and conn.close() really run. The line printed
# after the cancel is this test's addition too.
import os
import sys
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

received = []
def recv_callback(msg):
    received.append(msg)
    print('Received: ' + msg.body)
chan.basic_consume(queue='po_box', no_ack=True,
callback=recv_callback, consumer_tag="testtag")
while len(received) < int(sys.argv[1]):
    chan.wait()
chan.basic_cancel("testtag")
print("Cancelled: testtag")

chan.close()
conn.close()
