"""Real servers for tests, started on loopback in temporary folders and stopped afterwards.

`smtp` (aiosmtpd in a thread), `redis` (redis-server as a subprocess), `s3` (moto's S3
server as a subprocess), `dovecot` (IMAP), `site` (an Atiende of its own — data dir, database,
`atiende` subprocesses such as the worker). Tests take them through the pytest fixtures in
`fixtures.py`.
"""
