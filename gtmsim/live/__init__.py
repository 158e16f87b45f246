"""A live what-if page for a workshop room: move a lever, watch the paired answer arrive.

``gtmsim live`` serves it (optional extra: ``pip install "gtmsim[live]"``).
:mod:`~gtmsim.live.levers` makes the levers from the scenario schema,
:mod:`~gtmsim.live.pool` runs replications in processes that a new setting can
stop, :mod:`~gtmsim.live.engine` holds the cache, the run in flight and the
history, :mod:`~gtmsim.live.app` is the web app.
"""
