# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例1 Hello World!": send.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
#第一步:与RabbitMQ server建立连接
connection=pika.BlockingConnection(pika.ConnectionParameters(os.environ['AMQP_HOST'], int(os.environ['AMQP_PORT'])))
channel=connection.channel()

#第二步:生产指定要发送的队列
channel.queue_declare(queue='hello')

#第三步:通过交换exchange,发送数据到相应的队列;通过routing_key指定queue name;body中存放要传输的信息
channel.basic_publish(exchange='',routing_key='hello',body='Hello World!')
print("[x] Sent 'Hello World!'")

#第四步:关闭连接
connection.close()
