"""`--workers N`: N server processes on one gRPC port, under a parent that only supervises them.

As in grpc's `examples/python/multiprocessing`: the parent reserves the port with a SO_REUSEPORT
socket (so port 0 still gives one known port for every worker) and forks each worker before any
gRPC, asyncio or thread state exists; each worker serves the port with `grpc.so_reuseport` = 1 and
the kernel spreads connections (not calls: a channel stays on the worker it connected to) over them.

- Signals: SIGTERM and SIGINT to the parent are forwarded to every worker, and each drains as a single
  server does (`server/rpc/drain.py`). The parent waits for all of them and exits 0 when each stopped
  cleanly, else with the first other status.
- A worker that exits before it serves (database down, bad key...) stops the others; the parent exits
  with that worker's status (the exit statuses of `hedging --help`).
- A worker that dies while serving (killed, crashed) is logged and restarted in its place, at most
  `RESTARTS_PER_MINUTE` times a minute; beyond that the parent stops the others and exits 1. Its
  hedges in flight stay PENDING and are settled by their hash by any worker's resolver.
- If the parent itself dies, its workers are killed with it (`PR_SET_PDEATHSIG`, Linux).
- Only the first worker settles every open hedge at start (`first`); later ones, and restarted ones,
  leave fresh PENDING hedges (another worker's, in flight) to the resolvers' grace period.
- Metrics: worker i serves /metrics on the configured port + i (port 0: each on a free port of its
  own); the start banner lists them."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from server.preflight import EXIT_FAILED, EXIT_OK, CannotListen

log = logging.getLogger(__name__)

RESTARTS_PER_MINUTE = 5
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_MASKED = {*_STOP_SIGNALS, signal.SIGCHLD}


@dataclass(frozen=True)
class Slot:
    """What one worker is told: its number, the shared port, its metrics address, whether it is the
    first of the first generation, and where to say it serves."""

    index: int
    host: str
    port: int
    metrics_listen: str
    first: bool
    _ready_fd: int

    @property
    def grpc_listen(self) -> str:
        return f"{self.host}:{self.port}"

    def ready(self, metrics_port: int | None) -> None:
        """Tells the parent this worker serves (call once, from the worker)."""
        os.write(self._ready_fd, (json.dumps({"metrics_port": metrics_port}) + "\n").encode())


@dataclass(frozen=True)
class Ready:
    """Every worker serves: the shared port, and each worker's pid and metrics port."""

    port: int
    pids: tuple[int, ...]
    metrics_ports: tuple[int | None, ...]


Worker = Callable[[Slot], int]


def metrics_listen_of(listen: str, index: int) -> str:
    """Worker `index`'s metrics address: the configured port + index (port 0 stays 0)."""
    host, _, port = listen.rpartition(":")
    return f"{host}:{int(port) + index if int(port) else 0}"


@contextlib.contextmanager
def reserved_port(listen: str) -> Iterator[int]:
    """Binds `listen` with SO_REUSEPORT (not listening) while the workers run, so every worker binds
    the same port, port 0 included, and no other program takes it in between."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, int(port)))
    except OSError as exc:
        sock.close()
        raise CannotListen(listen, "HEDGING_GRPC_LISTEN", exc.strerror or str(exc)) from None
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


@dataclass
class _Process:
    index: int
    pid: int
    ready_fd: int
    ready: bool = False
    metrics_port: int | None = None


@dataclass
class Supervisor:
    """Forks and watches the workers; `run` returns the parent's exit status."""

    listen: str
    metrics_listen: str
    count: int
    worker: Worker
    on_ready: Callable[[Ready], None]
    _port: int = 0
    _live: dict[int, _Process] = field(default_factory=dict)  # by pid
    _stopping: bool = False
    _status: int = EXIT_OK
    _announced: bool = False
    _forked_rest: bool = False
    _restarts: list[float] = field(default_factory=list)
    _selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)
    _wake: tuple[int, int] = (-1, -1)

    def run(self) -> int:
        with reserved_port(self.listen) as port:
            self._port = port
            self._wake = os.pipe()
            os.set_blocking(self._wake[1], False)
            self._selector.register(self._wake[0], selectors.EVENT_READ)
            previous = {s: signal.signal(s, self._on_stop) for s in _STOP_SIGNALS}
            previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda _s, _f: None)
            old_wakeup = signal.set_wakeup_fd(self._wake[1])
            try:
                self._fork(0, first=True)
                while self._live:
                    self._step()
            finally:
                signal.set_wakeup_fd(old_wakeup)
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                self._selector.close()
                for fd in self._wake:
                    os.close(fd)
        return self._status

    # --- the parent's loop ------------------------------------------------------------------------------
    def _step(self) -> None:
        for key, _ in self._selector.select():
            if key.fd == self._wake[0]:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake[0], 512)
            else:
                self._read_ready(key.data)
        self._reap()

    def _read_ready(self, process: _Process) -> None:
        data = os.read(process.ready_fd, 4096)
        if not data:
            self._selector.unregister(process.ready_fd)
            return
        message = json.loads(data.decode().splitlines()[0])
        process.ready, process.metrics_port = True, message["metrics_port"]
        if self._announced:
            log.warning("worker %d serves again as pid %d", process.index, process.pid)
        elif not self._forked_rest and not self._stopping:
            self._forked_rest = True
            for index in range(1, self.count):  # the first has settled every open hedge
                self._fork(index, first=False)
        self._announce_when_all_ready()

    def _announce_when_all_ready(self) -> None:
        workers = sorted(self._live.values(), key=lambda p: p.index)
        if self._announced or self._stopping or len(workers) < self.count:
            return
        if all(p.ready for p in workers):
            self._announced = True
            self.on_ready(
                Ready(self._port, tuple(p.pid for p in workers), tuple(p.metrics_port for p in workers))
            )

    def _reap(self) -> None:
        while self._live:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            process = self._live.pop(pid, None)
            if process is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(process.ready_fd)
            os.close(process.ready_fd)
            self._exited(process, os.waitstatus_to_exitcode(status))

    def _exited(self, process: _Process, code: int) -> None:
        how = f"signal {-code}" if code < 0 else f"status {code}"
        if self._stopping:
            if code != EXIT_OK and self._status == EXIT_OK:
                self._status = code if code > 0 else EXIT_FAILED
            return
        if not process.ready:
            log.error(
                "worker %d (pid %d) exited with %s before serving; stopping", process.index, process.pid, how
            )
            self._stop(code if code > 0 else EXIT_FAILED)
            return
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < 60] + [now]
        if len(self._restarts) > RESTARTS_PER_MINUTE:
            log.error(
                "worker %d (pid %d) died (%s): more than %d restarts in a minute; stopping",
                process.index, process.pid, how, RESTARTS_PER_MINUTE,
            )  # fmt: skip
            self._stop(EXIT_FAILED)
            return
        log.error("worker %d (pid %d) died (%s); restarting it", process.index, process.pid, how)
        self._fork(process.index, first=False)

    def _on_stop(self, signum: int, _frame: object) -> None:
        log.info("received %s: draining every worker", signal.Signals(signum).name)
        self._stop(EXIT_OK, signum)

    def _stop(self, status: int, signum: int = signal.SIGTERM) -> None:
        if not self._stopping:
            self._stopping, self._status = True, status
        for process in self._live.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signum)

    # --- forking ----------------------------------------------------------------------------------------
    def _fork(self, index: int, *, first: bool) -> None:
        read_fd, write_fd = os.pipe()
        slot = Slot(
            index,
            self.listen.rpartition(":")[0],
            self._port,
            metrics_listen_of(self.metrics_listen, index),
            first,
            write_fd,
        )
        # Blocked across the fork: a signal is held until the worker's own handlers are installed
        # (`unblock_stop_signals`), never run by a copy of the parent's.
        signal.pthread_sigmask(signal.SIG_BLOCK, _MASKED)
        pid = fork(lambda parent: self._work(parent, read_fd, slot))
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _MASKED)
        os.close(write_fd)
        process = _Process(index, pid, read_fd)
        self._live[pid] = process
        self._selector.register(read_fd, selectors.EVENT_READ, process)

    def _work(self, parent: int, read_fd: int, slot: Slot) -> int:
        os.close(read_fd)
        self._become_worker(parent)
        return self.worker(slot)

    def _become_worker(self, parent: int) -> None:
        """In the child: none of the parent's handlers, descriptors or bookkeeping."""
        signal.set_wakeup_fd(-1)
        for sig in _MASKED:
            signal.signal(sig, signal.SIG_DFL)
        self._selector.close()
        for fd in (*self._wake, *(p.ready_fd for p in self._live.values())):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._live.clear()
        die_with_parent(parent)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})


def fork(body: Callable[[int], int]) -> int:
    """Forks a child that runs `body(parent's pid)` and exits with the status it returns (1 if it
    raises); returns the child's pid."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        status = EXIT_FAILED
        try:
            status = body(parent)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    return pid


def die_with_parent(parent: int) -> None:
    """Has the kernel SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(EXIT_FAILED)


def unblock_stop_signals() -> None:
    """Lets SIGTERM and SIGINT through once the process's own handlers are installed (a forked
    worker starts with them blocked; elsewhere this changes nothing)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
