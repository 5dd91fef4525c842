# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例4 Routing": emit_log_direct.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
import sys

#step1: create connection with RabbitMQ Server
connection=pika.BlockingConnection(pika.ConnectionParameters(host=os.environ['AMQP_HOST'], port=int(os.environ['AMQP_PORT'])))
channel = connection.channel()

#step2: declare a  direct exchange
channel.exchange_declare(exchange='direct_logs',
                         type='direct')

#step3: aacept message severity
severity = sys.argv[1] if len(sys.argv) > 1 else 'info'
message = ' '.join(sys.argv[2:]) or 'Hello World!'

#step4: send message to exchange with the specific severity
channel.basic_publish(exchange='direct_logs',
                      routing_key=severity,
                      body=message)
print(" [x] Sent %r:%r" % (severity, message))

#step5:close
connection.close()
