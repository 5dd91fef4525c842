# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例1 Hello World!": receive.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika
#第一步:与RabbitMQ server建立连接
connection=pika.BlockingConnection(pika.ConnectionParameters(os.environ['AMQP_HOST'], int(os.environ['AMQP_PORT'])))
channel=connection.channel()

#第二步:生产指定要接收的队列
channel.queue_declare(queue='hello')

#第三步:用回调函数到队列queue中,接收到信息时回调函数会被Pika库调用
def callback(ch,method,properties,body):
    print("[x] Received %r"%body)

#第四步:告诉RabbitMQ,这个特定的回调函数将接收来自hello队列的信息
channel.basic_consume(callback,queue='hello',no_ack=True)

#第五步:进入死循环等待数据,在必要的时候运行回调函数。
print("[x] Waiting for messages.To exit press CTRL + C")
channel.start_consuming()
