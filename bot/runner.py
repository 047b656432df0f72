"""Long-running entry points: the server (`motcua run`) and the terminal chat (`motcua chat`)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import build_app
from bot.config import Settings
from storage.migrate import upgrade

if TYPE_CHECKING:  # uvicorn and FastAPI load only when a server runs
    import uvicorn
    from fastapi import FastAPI


log = logging.getLogger(__name__)

# A chat server keeps many young objects alive across awaits (each turn's state, its rows),
# so with the default gen-0 threshold of 700 allocations the collector walks them again and
# again: 40% of the CPU of a turn under load in bench/turns.py. Collecting every 50,000
# allocations instead costs a little memory and nothing else.
GC_THRESHOLDS = (50_000, 20, 10)


def tune_gc() -> None:
    """The collector settings of a long-running server; startup objects (the catalogue, the
    address book) are frozen so that full collections stop walking them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve(settings: Settings, *, socket_fd: int | None = None) -> None:
    """One worker. ``socket_fd``: a listening socket bound by :func:`supervise`."""

    from bot.web import create_web_app

    await upgrade(settings.database.url)
    async with build_app(settings) as app:
        web = create_web_app(app)
        tune_gc()
        stop = asyncio.Event()
        # Before answering: each channel's own start (a webhook registered, a poller).
        for channel in app.channels:
            said = await channel.start(stop)
            if said:
                print(f"motcua: {said}", flush=True)
        server = _server_class()(server_config(settings, web))
        # Said once the port is ours: a port already taken ends the start instead.
        server.announce = (
            f"motcua: web chat at http://{settings.web.host}:{settings.web.port}/ "
            f"({len(app.knowledge.catalogue)} procedures, {settings.commune().name}); "
            f"officer console at http://{settings.web.host}:{settings.web.port}/console"
        )
        sockets = None
        if socket_fd is not None:
            sockets = [socket.socket(fileno=socket_fd)]
            server.announce = f"motcua: worker {os.getpid()} serving"
        try:
            await server.serve(sockets=sockets)
        finally:
            stop.set()
            for channel in app.channels:
                await channel.shutdown()
    print("motcua: stopped", flush=True)


def server_config(settings: Settings, web: FastAPI, **overrides: Any) -> uvicorn.Config:
    """The worker's uvicorn settings. X-Forwarded-For (and -Proto) are believed only from
    ``[web] trusted_proxies``: the console's login limits and the web chat's upload budget per
    address count the address this makes ``request.client``. ``overrides``: tests (a port)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": settings.web.host,
        "port": settings.web.port,
        "log_level": "info",
        "lifespan": "off",
        "ws_max_size": 64 * 1024,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.web.trusted_proxies,
    }
    options.update(overrides)
    return uvicorn.Config(web, **options)


RESTART_DELAY = 1.0  # seconds before a worker that died is started again


def supervise(settings: Settings, workers: int, command: list[str]) -> int:
    """``motcua run --workers N``: migrate once, bind the port once, and run N worker
    processes (``command`` plus ``--socket-fd``) that all accept on that socket; the kernel
    spreads connections between them. A worker that dies is started again. SIGTERM or SIGINT
    is passed on to every worker, each shuts down cleanly, and the supervisor exits 0.

    State every worker needs is in the database and the file store, so any worker may take
    any request: a page's upload on one, its turn on another, its receipt from a third."""
    asyncio.run(upgrade(settings.database.url))
    family = socket.AF_INET6 if ":" in settings.web.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((settings.web.host, settings.web.port))
    listener.listen(2048)
    listener.set_inheritable(True)
    fd = listener.fileno()
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([*command, "--socket-fd", str(fd)], pass_fds=(fd,))

    running = [start() for _ in range(workers)]
    print(
        f"motcua: web chat at http://{settings.web.host}:{settings.web.port}/ "
        f"({workers} workers, {settings.commune().name})",
        flush=True,
    )
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(running):
                if process.poll() is not None and not stopping:
                    log.warning("worker %d exited (%s); starting it again", i, process.returncode)
                    time.sleep(RESTART_DELAY)
                    running[i] = start()
    finally:
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        listener.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("motcua: stopped", flush=True)
    return 0


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn raises the signal it caught again once it has stopped, which kills the
        process before ``build_app`` has closed anything (SIGTERM: exit 143) or ends in a
        traceback (SIGINT). Here either signal stops the server, then motcua's own shutdown
        runs (background workers stopped, the database closed) and the exit code is 0."""

        announce = ""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and self.announce:
                print(self.announce, flush=True)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


async def chat(settings: Settings, user: str = "terminal", files_dir: Path | None = None) -> None:
    from handlers.terminal import TerminalChannel

    await upgrade(settings.database.url)
    async with build_app(settings) as app:
        channel = TerminalChannel(
            app.service.replies, sys.stdin, sys.stdout, user=user, files_dir=files_dir
        )
        app.push.register("terminal", channel.push)
        tune_gc()
        await channel.run()
        # Input ended (a script over a pipe): documents still being drawn are printed first.
        await app.receipts.run_once()
