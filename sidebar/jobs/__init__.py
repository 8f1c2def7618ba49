"""Background work on one task queue (Huey): deferred tasks, periodic jobs in China time, the worker.

sidebar/queue.py builds the app's queue from SIDEBAR_QUEUE_URL (features enqueue there); tasks.py is
the list of work; worker.py the consumer (`flask --app wsgi worker`); runs.py the claims, leases and
records in the database; schedule.py and trading_days.py the clock; views.py /console/jobs.
"""
