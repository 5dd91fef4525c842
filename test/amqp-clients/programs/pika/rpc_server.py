# Seed 001 (the six RabbitMQ pika tutorials, translated to Chinese, 2017), "实例6 RPC": rpc_server.py.
# As in the seed except: the broker's host and port come from AMQP_HOST/AMQP_PORT instead of 'localhost'
# (so `import os`), and the string quotes that the seed's web page lost are restored as in the tutorial it
# translates. The pika 0.x calls run on pika 1.2 through the shim in ../../shims.
import os
import pika

#建立连接
connection=pika.BlockingConnection(pika.ConnectionParameters(host=os.environ['AMQP_HOST'], port=int(os.environ['AMQP_PORT'])))
channel = connection.channel()

#声明队列
channel.queue_declare(queue='rpc_queue')

#声明fibonacci函数,只假设有效的正整数输入。
def fib(n):
    if n == 0:
        return 0
    elif n == 1:
        return 1
    else:
        return fib(n-1) + fib(n-2)


def on_request(ch, method, props, body):
    n = int(body)

    print(" [.] fib(%s)" % n)
    response = fib(n)

    ch.basic_publish(exchange='',
                     routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id = 
                                                         props.correlation_id),
                     body=str(response))
    ch.basic_ack(delivery_tag = method.delivery_tag)

channel.basic_qos(prefetch_count=1)  #为了在多个服务器上平均分配负载,我们需要设置prefetch_count设置。
channel.basic_consume(on_request, queue='rpc_queue')
#我们声明对basic_consume的回调,RPC服务器的核心。在接收请求时执行它。它执行工作并发送响应。

print(" [x] Awaiting RPC requests")
channel.start_consuming()
