"""gunicorn's settings for every way Handoff is served: the Docker image, `make bench` and CI's
production smoke test (gunicorn also reads this file by itself when started from the repository).

Threads: a request spends much of its time waiting on PostgreSQL (ten statements for an intake).
A sync worker holds the whole process idle meanwhile and closes the connection after every
response; a threaded worker serves another request in that wait and keeps connections alive.
Django runs each request in its own thread with its own database connection (CONN_MAX_AGE keeps
one per thread), so `workers × threads` connections at most.
"""

worker_class = "gthread"
threads = 4  # per worker; `--threads N` on the command line overrides it
# A client's connection stays open between requests (integrators, the load client, a proxy).
keepalive = 5
