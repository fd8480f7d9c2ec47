"""Functional checks: an image serves its real API against real backing services.

spec (functional.yaml as data) -> stack (a private network, removed afterwards)
-> backing (MariaDB, RabbitMQ, memcached) -> api (requests and what their
answers hold) -> run (one run, its table).
"""
