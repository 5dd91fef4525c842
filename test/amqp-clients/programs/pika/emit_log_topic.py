# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例5 Topics": emit_log_topic.py.
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
channel.exchange_declare(exchange='topic_logs', type='topic')

#step3:receive routing_key message from sys.argv
routing_key = sys.argv[1] if len(sys.argv) > 1 else 'anonymous.info'
message = ' '.join(sys.argv[2:]) or 'Hello World!'

#step4:send message to topic_logs
channel.basic_publish(exchange='topic_logs',
                      routing_key=routing_key,
                      body=message)

print(" [x] Sent %r:%r" % (routing_key, message))

#step5:close.
connection.close()
