# py-amqp over TLS (amqp.Connection(ssl={...})): publishes one message to a queue and gets it back, prints
# "got <body>". argv: queue. The broker from AMQP_HOST/AMQP_PORT (the AMQPS port); TLS_CA verifies the server,
# TLS_CERT/TLS_KEY are the client certificate, AMQP_USER/AMQP_PASSWORD the login.
import os
import ssl
import sys

import amqp

queue = sys.argv[1]
connection = amqp.Connection(
    host="%s:%s" % (os.environ["AMQP_HOST"], os.environ["AMQP_PORT"]),
    userid=os.environ["AMQP_USER"],
    password=os.environ["AMQP_PASSWORD"],
    ssl={
        "ca_certs": os.environ["TLS_CA"],
        "certfile": os.environ["TLS_CERT"],
        "keyfile": os.environ["TLS_KEY"],
        "cert_reqs": ssl.CERT_REQUIRED,
        "server_hostname": "localhost",
    },
)
connection.connect()
channel = connection.channel()
channel.queue_declare(queue=queue, auto_delete=True)
channel.basic_publish(amqp.Message("hello over TLS"), exchange="", routing_key=queue)
message = channel.basic_get(queue=queue, no_ack=True)
print("got", message.body if message is not None else None)
connection.close()
