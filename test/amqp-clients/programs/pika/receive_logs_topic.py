# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例5 Topics": receive_logs_topic.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
import sys

#step1:create a connection with RabbitMQ Server
connection=pika.BlockingConnection(pika.ConnectionParameters(host=os.environ['AMQP_HOST'], port=int(os.environ['AMQP_PORT'])))
channel = connection.channel()

#step2:declare a topic exchange
channel.exchange_declare(exchange='topic_logs',
                         type='topic')

#step3:declare a random name queue
result = channel.queue_declare(exclusive=True)
queue_name = result.method.queue

#step4:receive messages from sys.argv
binding_keys = sys.argv[1:]
if not binding_keys:
    sys.stderr.write("Usage: %s [binding_key]...\n" % sys.argv[0])
    sys.exit(1)

#step5:bind a topic exchange with a queue 
for binding_key in binding_keys:
    channel.queue_bind(exchange='topic_logs',
                       queue=queue_name,
                       routing_key=binding_key)

print(' [*] Waiting for logs. To exit press CTRL+C')

#step6:create a callback function
def callback(ch, method, properties, body):
    print(" [x] %r:%r" % (method.routing_key, body))

#step7:call a callback function when receive a message
channel.basic_consume(callback,
                      queue=queue_name,
                      no_ack=True)

#step8:write a endless loop
channel.start_consuming()
