"""The worker's side of isolation: the handle of the template process and one handle per child.

The worker starts the template (:mod:`runner.isolation.template`) with
``subprocess`` in a session of its own and asks it for children over a
``SOCK_SEQPACKET`` socket, handing over one end of a fresh socket pair per
child. A reader thread collects the template's answers and exit notices.
Killing a child is always done by the template, which is its parent: it kills
the child's whole process group while the child is still unreaped, so a
recycled pid can never be hit.

Messages from the template and the children are read with the restricted
unpickler of :mod:`runner.isolation.protocol`, so a child subverted by a
hostile file cannot make the worker run code.
"""

from __future__ import annotations

import os
import pickle
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import psutil

from extractkit.errors import ExitCode, ExtractkitError, PluginError

from .child import ChildSettings, Job
from .limits import has_exited, kill_process_group
from .protocol import MAX_PACKET, ChildExit, FromChild, FromTemplate, ToChild, ToTemplate, load_child_message, message

#: The module the template process runs as (``python -P -m``).
TEMPLATE_MODULE = "runner.isolation.template"
#: How long a child asked to stop may take before it is killed.
STOP_GRACE_SECONDS = 2.0
#: How long to wait for the template to report a killed child's exit.
EXIT_REPORT_SECONDS = 10.0


class ChildGone(Exception):
    """The child closed its end of the socket: it has died."""


class ChildMisbehaved(Exception):
    """The child sent a message the worker refuses (a forbidden type, or not a known shape)."""


class ChildStartError(ExtractkitError):
    """The template process or a child could not be started: the fork failed, or it died or hung on the way up.

    Plugins that fail to load in the template are a :class:`~extractkit.errors.PluginError` instead.
    """

    exit_code = ExitCode.START_FAILED


def _stdout_for_children() -> int:
    """Route the children's stray prints to the worker's stderr, never into its stdout."""
    try:
        os.fstat(2)
    except OSError:
        return subprocess.DEVNULL
    return 2


class TemplateHandle:
    """The template process: starts children, kills them and reports their exits."""

    def __init__(self, settings: ChildSettings, startup_timeout: float) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-P", "-m", TEMPLATE_MODULE, str(child_end.fileno())],
                pass_fds=(child_end.fileno(),),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=_stdout_for_children(),
                env={**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")},
            )
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        self.control = parent_end
        self._request_lock = threading.Lock()
        self._answers: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._exit_changed = threading.Condition()
        self.alive = True
        try:
            self.control.send(pickle.dumps(settings))
            self._wait_ready(startup_timeout)
        except BaseException:
            self.close()
            raise
        threading.Thread(target=self._read, daemon=True, name="extractkit-template-reader").start()

    def _wait_ready(self, timeout: float) -> None:
        self.control.settimeout(timeout)
        try:
            data = self.control.recv(MAX_PACKET)
        except (TimeoutError, OSError) as error:
            raise ChildStartError(f"the extraction template process did not start within {timeout:g} s") from error
        finally:
            self.control.settimeout(None)
        if not data:
            raise ChildStartError(f"the extraction template process exited while starting ({self.popen.wait()})")
        kind, payload = load_child_message(data)
        if kind == FromTemplate.ERROR:
            raise PluginError(str(payload))
        if kind != FromTemplate.READY:
            raise ChildStartError(f"the extraction template process sent {kind!r} instead of ready")

    def _read(self) -> None:
        while True:
            try:
                data = self.control.recv(MAX_PACKET)
            except OSError:
                data = b""
            if not data:
                break
            try:
                kind, payload = load_child_message(data)
            except Exception:
                break  # the template is broken; treat it as gone
            if kind == FromTemplate.EXITED:
                pid, status = payload
                with self._exit_changed:
                    self._exits[int(pid)] = int(status)
                    self._exit_changed.notify_all()
            else:
                self._answers.put((kind, payload))
        with self._exit_changed:
            self.alive = False
            self._exit_changed.notify_all()
        self._answers.put((FromTemplate.SPAWN_FAILED, "the extraction template process is gone"))

    def spawn(self, timeout: float) -> tuple[int, Connection]:
        """Ask for a new child; return its pid and the connection to it."""
        ours, theirs = socket.socketpair()
        try:
            with self._request_lock:
                if not self.alive:
                    raise ChildStartError("the extraction template process is gone")
                socket.send_fds(self.control, [pickle.dumps(message(ToTemplate.SPAWN))], [theirs.fileno()])
                try:
                    kind, payload = self._answers.get(timeout=timeout)
                except queue.Empty as error:
                    raise ChildStartError(f"no extraction child was started within {timeout:g} s") from error
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        if kind != FromTemplate.SPAWNED:
            ours.close()
            raise ChildStartError(f"the extraction template could not start a child: {payload}")
        return int(payload), Connection(ours.detach())

    def exit_status(self, pid: int) -> int | None:
        """The child's exit status once the template has reaped it (or is gone)."""
        with self._exit_changed:
            if pid in self._exits:
                return self._exits[pid]
            return None if self.alive else ChildExit.UNKNOWN

    def wait_exit(self, pid: int, timeout: float) -> bool:
        """Wait until the template reports the child's exit (or is gone); True if it did in time."""
        deadline = time.monotonic() + timeout
        with self._exit_changed:
            while pid not in self._exits and self.alive:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._exit_changed.wait(remaining)
            return True

    def kill_child(self, pid: int) -> int:
        """Have the template kill the child's group; wait for and return its exit status."""
        if self.exit_status(pid) is None:
            try:
                with self._request_lock:
                    self.control.send(pickle.dumps(message(ToTemplate.KILL, pid)))
            except OSError:
                pass
            self.wait_exit(pid, EXIT_REPORT_SECONDS)
        with self._exit_changed:
            return self._exits.pop(pid, ChildExit.UNKNOWN)

    def close(self) -> None:
        """Stop the template (it kills every child's group), then make sure its own group is gone."""
        try:
            with self._request_lock:
                self.control.send(pickle.dumps(message(ToTemplate.STOP)))
        except OSError:
            pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS + EXIT_REPORT_SECONDS
        while self.popen.returncode is None and not has_exited(self.popen.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.popen.returncode is None:
            kill_process_group(self.popen.pid)  # before reaping, while its group id cannot be reused
        self.popen.wait()
        self.control.close()


class ChildHandle:
    """One child and the socket to it. Not thread-safe for talking: one caller at a time."""

    def __init__(self, template: TemplateHandle, startup_timeout: float) -> None:
        self.template = template
        self.pid, self.conn = template.spawn(startup_timeout)
        try:
            self.process = psutil.Process(self.pid)
        except psutil.Error as error:
            self.conn.close()
            raise ChildStartError(f"the extraction child {self.pid} exited at once") from error
        self.jobs_done = 0
        self.is_ready = False
        self.address_space_limit: int | None = None
        self._returncode: int | None = None
        self._end_lock = threading.Lock()
        self._stop_requested_at: float | None = None

    def receive(self, timeout: float) -> tuple[str, Any] | None:
        """The next ``(kind, payload)`` message, or ``None`` if none came within ``timeout``.

        Raises :class:`ChildGone` when the child has died and :class:`ChildMisbehaved`
        when what it sent is refused.
        """
        try:
            if not self.conn.poll(timeout):
                return None
            data = self.conn.recv_bytes()
        except (EOFError, OSError) as error:
            raise ChildGone(str(error)) from error
        try:
            message = load_child_message(data)
        except Exception as error:
            raise ChildMisbehaved(f"{type(error).__name__}: {error}") from error
        if not (isinstance(message, tuple) and len(message) == 2 and isinstance(message[0], str)):
            raise ChildMisbehaved("a message that is not a (kind, payload) pair")
        return message

    def wait_ready(self, timeout: float) -> None:
        """Wait for the child's ready message; raise :class:`ChildStartError` otherwise."""
        deadline = time.monotonic() + timeout
        while not self.is_ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChildStartError(f"the extraction child did not start within {timeout:g} s")
            try:
                message = self.receive(min(remaining, 0.5))
            except (ChildGone, ChildMisbehaved) as error:
                status = self.kill()
                raise ChildStartError(f"the extraction child exited while starting (status {status})") from error
            if message is not None and message[0] == FromChild.READY and isinstance(message[1], dict):
                self.address_space_limit = message[1].get("address_space_limit")
                self.is_ready = True

    def send_job(self, job: Job) -> None:
        """Hand the child a document; raises ``OSError`` if it is gone."""
        self.conn.send(message(ToChild.JOB, job))

    def has_exited(self) -> bool:
        """True once the child has exited (as reported by the template)."""
        return self._returncode is not None or self.template.exit_status(self.pid) is not None

    def kill(self) -> int:
        """Kill the child's whole process group and return its exit status."""
        with self._end_lock:
            if self._returncode is None:
                self._returncode = self.template.kill_child(self.pid)
                self.conn.close()
            return self._returncode

    def request_stop(self) -> None:
        """Ask the child to exit once it has finished its current document."""
        if self._stop_requested_at is not None or self._returncode is not None:
            return
        self._stop_requested_at = time.monotonic()
        try:
            self.conn.send(message(ToChild.STOP))
        except OSError:
            pass

    def stop(self) -> int:
        """Ask the child to exit, give it a short grace, then make sure nothing of its group survives."""
        self.request_stop()
        if self._stop_requested_at is not None and self._returncode is None:
            remaining = self._stop_requested_at + STOP_GRACE_SECONDS - time.monotonic()
            self.template.wait_exit(self.pid, max(0.0, remaining))
        return self.kill()
