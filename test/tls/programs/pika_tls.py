# pika over TLS (pika.SSLOptions): declares a queue, publishes one message, gets it back, prints "got <body>".
# argv: queue, then "external" to log in with SASL EXTERNAL (the client certificate's CN) instead of PLAIN.
# The broker from AMQP_HOST/AMQP_PORT (the AMQPS port); TLS_CA verifies the server, TLS_CERT/TLS_KEY (optional)
# are the client certificate, AMQP_USER/AMQP_PASSWORD the PLAIN login.
import os
import ssl
import sys

import pika

queue = sys.argv[1]
external = len(sys.argv) > 2 and sys.argv[2] == "external"

context = ssl.create_default_context(cafile=os.environ["TLS_CA"])
if os.environ.get("TLS_CERT"):
    context.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
if external:
    credentials = pika.credentials.ExternalCredentials()
else:
    credentials = pika.PlainCredentials(os.environ["AMQP_USER"], os.environ["AMQP_PASSWORD"])
parameters = pika.ConnectionParameters(
    host=os.environ["AMQP_HOST"],
    port=int(os.environ["AMQP_PORT"]),
    ssl_options=pika.SSLOptions(context, "localhost"),
    credentials=credentials,
)
connection = pika.BlockingConnection(parameters)
channel = connection.channel()
channel.queue_declare(queue=queue, auto_delete=True)
channel.basic_publish(exchange="", routing_key=queue, body=b"hello over TLS")
method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
print("got", body.decode() if body is not None else None)
connection.close()
