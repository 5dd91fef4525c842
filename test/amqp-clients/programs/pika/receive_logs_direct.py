# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例4 Routing": receive_logs_direct.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
import sys

#step1: create connection with RabbitMQ server
connection=pika.BlockingConnection(pika.ConnectionParameters(host=os.environ['AMQP_HOST'], port=int(os.environ['AMQP_PORT'])))
channel = connection.channel()

#step2: declare a direct exchange 
channel.exchange_declare(exchange='direct_logs',
                         type='direct')

#step3:declare a random name queue
result = channel.queue_declare(exclusive=True)
queue_name = result.method.queue

#step4: 
severities = sys.argv[1:]
if not severities:
    sys.stderr.write("Usage: %s [info] [warning] [error]\n" % sys.argv[0])
    sys.exit(1)

for severity in severities:
    channel.queue_bind(exchange='direct_logs',
                       queue=queue_name,
                       routing_key=severity)

print(' [*] Waiting for logs. To exit press CTRL+C')

#step5: define a callback function 
def callback(ch, method, properties, body):
    print(" [x] %r:%r" % (method.routing_key, body))

#step6: call a callback function when receive a message 
channel.basic_consume(callback,
                      queue=queue_name,
                      no_ack=True)

#step7: write a endless loop
channel.start_consuming()
