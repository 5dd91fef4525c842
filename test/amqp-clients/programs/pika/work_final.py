# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例2 Work queues", final version (basic_ack, durable queue, basic_qos(prefetch_count=1)): work.py.
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
channel.queue_declare(queue='hello',durable=True)  #durable=True实现队列持久化,C和P都要保持一致

#step3:define callback function.
def callback(ch,method,properties,body):
    print('[x] Received %r'%body)
    time.sleep(body.count(b'.'))
    print('[x] Done.')
    ch.basic_ack(delivery_tag=method.delivery_tag)  #basic_ack是消息确认的不可缺少的一部分,少了它内存中的messages_noacknowledgement不会自动较少


#step4:when Consumer receive message,the program call callback function to deal with message.
channel.basic_qos(prefetch_count=1)  #消息公平分发Fair dispatch ,设置RabbitMQ只向每个C发送一条message
channel.basic_consume(callback,queue='hello') #使用no_ack=False的默认值,确保消息确认

print('[x] Waiting for messages. To exit press "CTRL+C"')

#write an endless loop.
channel.start_consuming()
