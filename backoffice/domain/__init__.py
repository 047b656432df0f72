"""The pure core of the one-stop-shop office: statuses, the workflow table, codes, postal rules.

Nothing here does I/O or reads the clock: time, the actor and the working-day calendar come in
a :class:`Context`, so the same rules run in the REST API, the CLI, the console and the tests.
"""
