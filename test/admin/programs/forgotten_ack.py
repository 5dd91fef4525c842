# The RabbitMQ tutorial's "forgotten acknowledgment": a worker that takes messages and never acks them.
# With prefetch_count=2 it holds two unacked and the broker keeps the rest ready.
import os
import sys

import pika

queue = sys.argv[1]
connection = pika.BlockingConnection(
    pika.ConnectionParameters(os.environ['AMQP_HOST'], int(os.environ['AMQP_PORT'])))
channel = connection.channel()
channel.queue_declare(queue=queue, durable=True)
channel.basic_qos(prefetch_count=2)
held = []


def callback(ch, method, properties, body):
    held.append(body)
    print(f" [x] Holding {body.decode()} ({len(held)} unacked)", flush=True)


channel.basic_consume(queue=queue, on_message_callback=callback)
channel.start_consuming()
