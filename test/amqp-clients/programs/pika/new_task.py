# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例2 Work queues", first version: new_task.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The seed joins the arguments with '' (so the tests pass each
# message as one argument, e.g. 'First message.'). The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import sys
import pika

#step1:create connection with RabbitMQ Server
connection=pika.BlockingConnection(pika.ConnectionParameters(os.environ['AMQP_HOST'], int(os.environ['AMQP_PORT'])))
channel=connection.channel()

#step2:create a named queue
channel.queue_declare(queue='hello')

#step3:message的默认值为"Hello World!",如果terminal中传入了参数,则为参数
message=''.join(sys.argv[1:]) or "Hello World!"
channel.basic_publish(exchange='',routing_key='hello',body=message)
print("[x] Sent %r"%message)

#step4:close
connection.close()
