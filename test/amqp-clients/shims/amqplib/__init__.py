"""py-amqplib (Barry Pederson's amqplib 0.x / 1.0), the library of the "Rabbits and Warrens" seed, is long gone and
not packaged by Debian; its successor py-amqp (celery/py-amqp, Debian's python3-amqp) kept its API. This package
maps the one module the seed imports, amqplib.client_0_8, onto py-amqp."""
