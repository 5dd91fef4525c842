# Not from a seed: a kombu (Celery's messaging library, Debian's python3-kombu 5.2 on py-amqp 5.1) round trip the
# way a kombu user writes it, run WITHOUT the shims. argv[1] is a name unique to the test run: the queue and the
# exchange kombu declares for it.
#   1. SimpleQueue: put a dict (kombu serializes it as JSON), get it back, ack it.
#   2. Producer/Consumer on a direct exchange with a routing key, persistent messages, a header.
import os
import sys

import kombu

name = sys.argv[1]
url = "amqp://guest:guest@%s:%s//" % (os.environ["AMQP_HOST"], os.environ["AMQP_PORT"])

with kombu.Connection(url) as connection:
    queue = connection.SimpleQueue(name)
    queue.put({"hello": "warren", "n": 1})
    message = queue.get(block=True, timeout=10)
    print("simple body=%r content_type=%s" % (message.payload, message.content_type))
    message.ack()
    print("simple qsize after ack=%d" % queue.qsize())
    queue.close()

    exchange = kombu.Exchange(name + ".x", type="direct", durable=False, auto_delete=True)
    bound = kombu.Queue(name + ".q", exchange=exchange, routing_key="kombu.key", durable=False, auto_delete=True)
    received = []

    def on_message(body, message):
        received.append(body)
        print("consumer body=%r routing_key=%s delivery_mode=%s header=%s" % (
            body, message.delivery_info["routing_key"], message.properties.get("delivery_mode"),
            message.headers.get("x-test")))
        message.ack()

    with kombu.Consumer(connection, queues=[bound], callbacks=[on_message], accept=["json"]):
        producer = kombu.Producer(connection, exchange=exchange, routing_key="kombu.key", serializer="json")
        producer.publish({"task": "add", "args": [2, 3]}, delivery_mode=2, headers={"x-test": "yes"},
                         declare=[bound])
        while not received:
            connection.drain_events(timeout=10)
print("done")
