# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例3 Publish/Subscribe": emit_log.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
import sys

#step1:create connection with RabbitMQ server
connection =pika.BlockingConnection(pika.ConnectionParameters(host=os.environ['AMQP_HOST'], port=int(os.environ['AMQP_PORT'])))
channel = connection.channel()

#step2:declare a fanout exchange
channel.exchange_declare(exchange='logs',
                         type='fanout')

message = ' '.join(sys.argv[1:]) or "info: Hello World!"

#step3:send message to exchange 'log'
channel.basic_publish(exchange='logs',
                      routing_key='',
                      body=message)
print(" [x] Sent %r" % message)

#step4:close
connection.close()
