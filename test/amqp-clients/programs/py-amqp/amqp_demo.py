# Seed 003 (lpe234, 2014: RabbitMQ with py-amqp 1.4.6, `import amqp`), the annotated demo of its section 三 (注释代码), with its comments.
# As in the seed except: the broker address comes from AMQP_HOST/AMQP_PORT instead of "localhost:5672" (so
# `import os`), the curly quotes of the seed's web page are plain quotes again, and Python 2 becomes Python 3 where
# the language forces it: print statements become print() calls. py-amqp 1.4's connect-in-constructor and bare
# chan.wait() run on py-amqp 5.1 through ../../shims/warren_shims/amqp_14.py.
# -*- coding: utf-8 -*-
__author__ = 'lpe234'
__date__ = '2014-12-15'
import os
import amqp
"""
amqp rabbitmq DEMO测试
先启动 amqp_consumer.py 消费者,创建
"""
conn = amqp.Connection(host=os.environ["AMQP_HOST"] + ":" + os.environ["AMQP_PORT"], userid='guest', password='guest', virtual_host='/', insist=False)
# 每个channel都被分配了一个整数标识,自动由Connection()类的.channel()方法维护。可以使用.channel(x)来指定channel标识。
chan = conn.channel(channel_id=1)
# 当多个 channel_id 相同时,实际为同一 channel
# 现在已经有了一个可用的连接和channel。
# 现在将代码分为两类,生产者(producer)和消费者(consumer)。
# 创建一个消费者程序,会创建一个"po_box"的队列和一个叫"sorting_room"的交换机。
chan.queue_declare(queue='po_box', durable=True, exclusive=False, auto_delete=False)
chan.exchange_declare(exchange='sorting_room', type='direct', durable=True, auto_delete=False)
# 创建了"po_box" 的队列,durable重启之后会重新建立,auto_delete=False最后一个消费者断开之后不会自动删除,exclusive私有队列
# 创建了"sorting_room"的交换机,type指定交换机类型,
# 现在已经有了一个可以接收消息的队列和一个可以发送消息的交换机。不过还需要创建一个绑定
chan.queue_bind(queue='po_box', exchange='sorting_room', routing_key='jason')
# 这个绑定非常直接,任何送到交换机"sorting_room"的具有路由键"jason"的消息都被路由到"po_box" 队列
# 现在有两个方法,从队列中取出消息。
# 第一个是调用 chan.basic_get(), 主动从队列中拉出下一条消息(若没有则返回 None)
# msg = chan.basic_get(queue='po_box')
# if msg:
#     print msg.body
#     chan.basic_ack(msg.delivery_tag)
# 第二种
def receive_callback(msg):
    print(msg.body)
chan.basic_consume(queue='po_box', no_ack=True, callback=receive_callback, consumer_tag='testtag')
while True:
    chan.wait()
chan.basic_cancel('testtag')
# chan.wait() 放在无限循环里面,这个函数会等待在队列上,知道下一个消息到达队列。
# chan.basic_cancel() 用来注销该回调函数
# no_ack 这个参数,可以传给 chan.basic_get(), chan.basic_consume。是否等待回馈,
