# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例3 Publish/Subscribe": receive_logs.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika

#step1:create connection with RabbitMQ server
connection=pika.BlockingConnection(pika.ConnectionParameters(host=os.environ['AMQP_HOST'], port=int(os.environ['AMQP_PORT'])))
channel = connection.channel()

#step2:declare a fanout exchange
channel.exchange_declare(exchange='logs',
                         type='fanout')

#step3:declare a random name queue
result = channel.queue_declare(exclusive=True)  #exclusive=True使得生成的随机名称的queue在使用后在内存中删除。
queue_name = result.method.queue  #result.method.queue生成一个随机名称的queue

#step4:create a bind with logs and queue
channel.queue_bind(exchange='logs',
                   queue=queue_name)

print(' [*] Waiting for logs. To exit press CTRL+C')

#step5:define a callback function
def callback(ch, method, properties, body):
    print(" [x] %r" % body)

#step6:call a callback function when C receives a message
channel.basic_consume(callback,
                      queue=queue_name,
                      no_ack=True)

#step7:write a endless loop
channel.start_consuming()
