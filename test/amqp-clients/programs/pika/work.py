# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例2 Work queues", first version (no_ack=True, round-robin): work.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
import time

#step1:create connection with RabbitMQ Server
connection=pika.BlockingConnection(pika.ConnectionParameters(os.environ['AMQP_HOST'], int(os.environ['AMQP_PORT'])))
channel=connection.channel()

#step2:create a named queue
channel.queue_declare(queue='hello')

#step3:define callback function.
def callback(ch,method,properties,body):
    print('[x] Received %r'%body)
    time.sleep(body.count(b'.'))
    print('[x] Done.')

#step4:when Consumer receive message,the program call callback function to deal with message.
channel.basic_consume(callback,queue='hello',no_ack=True)

print('[x] Waiting for messages. To exit press "CTRL+C"')

#write an endless loop.
channel.start_consuming()
