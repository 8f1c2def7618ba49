"""gunicorn settings, read by `gunicorn wsgi:app` from the working directory.

Every value can be overridden on the command line (e.g. `-w 2`) or by the environment variables named.
"""
import multiprocessing
import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Requests are short and mostly wait on the database: two workers a core keeps both cores busy.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
timeout = 30  # WeCom calls time out after 10 s; a request stuck far longer is a bug, not load
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then: bounded memory over weeks
max_requests_jitter = 500
accesslog = "-"
# The path without its query string: OAuth codes and search words stay out of the logs; the client's
# network, not its address, and tracked links without their token (PrivateAccessLogger).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class PrivateAccessLogger(Logger):
    """gunicorn's logger, writing the client's network (/24, /48) for its address and /r/… for a tracked link."""

    def atoms(self, resp, req, environ, request_time):
        """The format's values with the address cut to its network and share tokens cut out of the path."""
        from sidebar.addresses import logged_path, network_of

        atoms = super().atoms(resp, req, environ, request_time)
        path = logged_path(atoms["U"])
        atoms.update(h=network_of(atoms["h"]) or "-", U=path, r=f'{atoms["m"]} {path} {atoms["H"]}', q="-")
        return atoms


logger_class = PrivateAccessLogger
# Behind a reverse proxy, trust its X-Forwarded-* headers (https detection, client address).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Ready a worker that has loaded the app: garbage collector and SQLite checkpoints out of the requests.

    The app's objects live as long as the worker; without gc.freeze every full collection walks all
    of them (about 100,000 objects: a 100+ ms pause in the middle of some request, measured by
    bench/budget.py). On SQLite a thread checkpoints the WAL (see extensions.checkpoint_in_background).
    """
    import gc

    from sidebar.database import checkpoint_in_background

    checkpoint_in_background(worker.wsgi)
    gc.collect()
    gc.freeze()
