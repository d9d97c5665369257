"""The template process that forks the extraction children.

Started by the worker as ``python -P -m runner.isolation.template FD`` in a
session of its own, it receives the :class:`~runner.isolation.child.ChildSettings`,
loads the plugins and lets each of them warm up (the ``warm_up`` hook: import
its heavy libraries, register tiny sample files that are then extracted once),
then says ready. From then on it stays single-threaded and does four things on
its control socket (``SOCK_SEQPACKET``, one pickled tuple per packet; the kinds
are in :mod:`runner.isolation.protocol`):

* ``SPAWN`` with a socket attached: fork a child that serves jobs on that socket
  (:func:`runner.isolation.child.run_child`), answer ``SPAWNED`` with its pid;
* ``KILL`` with a pid: kill that child's whole process group;
* notice a child's exit, kill what is left of its group *before* reaping it (so
  the group id cannot have been reused), reap it and send ``EXITED`` with ``(pid, status)``;
* on ``STOP``, end of the socket, or the worker's death: kill every child's
  group and exit.

A fresh child thus costs a fork of a warm process instead of an interpreter
start, which keeps recycling cheap.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import socket
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Callable

from extractkit.models import ExtractOptions
from extractkit.plugins import Plugins
from extractkit.processing import local_document, process_document

from ..logs import configure_logging
from .child import ChildSettings, run_child
from .limits import disable_core_dumps, has_exited, kill_process_group
from .protocol import MAX_PACKET, ChildExit, FromTemplate, ToTemplate, message

log = logging.getLogger("extractkit.isolation")

LOOP_SECONDS = 0.5


def _ignore_signal(signum: int, frame: object) -> None:
    """A no-op handler: unlike ``SIG_IGN`` it is reset to the default in programs the children exec."""


def take_orders_only_from_the_parent() -> None:
    """Ignore SIGTERM and SIGINT here and in the forked children.

    The worker stops or kills its children itself; a SIGTERM sent to every process
    at once (systemd's default ``KillMode=control-group``, say) must not kill a
    child mid-document and turn a shutdown into "crashed" failures. Tools the
    children run (tesseract) keep the default handling.
    """
    signal.signal(signal.SIGTERM, _ignore_signal)
    signal.signal(signal.SIGINT, _ignore_signal)


def send(control: socket.socket, kind: FromTemplate, payload: object = None) -> None:
    """Send one control message to the worker."""
    control.send(pickle.dumps(message(kind, payload)))


def _call_each_plugin_warm_up(
    plugins: Plugins, register_sample: Callable[[str, bytes], None], options: ExtractOptions
) -> None:
    """Call every plugin's ``warm_up`` on its own, so one that fails is logged and the others still run."""
    for impl in reversed(plugins.pm.hook.warm_up.get_hookimpls()):  # call order: most recently registered first
        if impl.hookwrapper or impl.wrapper:
            log.warning("plugin %s implements warm_up as a wrapper; it is not called", impl.plugin_name)
            continue
        arguments = {"register_sample": register_sample, "options": options}
        try:
            impl.function(*[arguments[name] for name in impl.argnames])
        except Exception as error:
            log.warning("plugin %s could not warm up: %r; its documents start cold", impl.plugin_name, error)


def warm_up_plugins(plugins: Plugins, settings: ChildSettings) -> None:
    """Let every plugin warm up, then extract each sample it registered once, so every child starts warm."""
    samples: list[tuple[str, bytes]] = []

    def register_sample(file_name: str, data: bytes) -> None:
        samples.append((Path(file_name).name or "sample", bytes(data)))

    _call_each_plugin_warm_up(plugins, register_sample, settings.options)
    with tempfile.TemporaryDirectory(prefix="extractkit-warm-") as directory:
        for index, (name, data) in enumerate(samples):
            path = Path(directory) / str(index) / name  # a folder each, so two plugins may use one name
            try:
                path.parent.mkdir()
                path.write_bytes(data)
                outcome = process_document(local_document(path), plugins, settings.options)
            except Exception as error:
                log.warning("warm-up sample %s could not be extracted: %r", name, error)
                continue
            if outcome.failure is not None:
                log.info("warm-up sample %s failed (%s): %s", name, outcome.failure.reason, outcome.failure.message)


class Template:
    """The template process's state: its control socket, the warm plugins and the live children."""

    def __init__(self, control: socket.socket, plugins: Plugins, settings: ChildSettings) -> None:
        self.control = control
        self.plugins = plugins
        self.settings = settings
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def fork_child(self, fd: int) -> int:
        """Fork a child serving jobs on ``fd``; in the child this never returns."""
        pid = os.fork()
        if pid:
            os.close(fd)
            self.children.add(pid)
            return pid
        status = ChildExit.SOFTWARE_ERROR
        try:
            self.control.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            status = run_child(fd, self.plugins, self.settings)
        except MemoryError:
            status = ChildExit.OUT_OF_MEMORY
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def kill_child(self, pid: int) -> None:
        """Kill a child's group, and the child itself in case it has not called ``setsid`` yet.

        Safe against pid reuse: the child is this process's own and is not reaped yet.
        """
        kill_process_group(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self) -> None:
        """Report every child that has exited, after killing the rest of its group."""
        for pid in [pid for pid in self.children if has_exited(pid)]:
            kill_process_group(pid)
            _, status = os.waitpid(pid, 0)
            self.children.discard(pid)
            send(self.control, FromTemplate.EXITED, (pid, os.waitstatus_to_exitcode(status)))

    def handle(self, kind: str, payload: object, fds: list[int]) -> bool:
        """Act on one control message; False means stop."""
        if kind == ToTemplate.SPAWN and fds:
            try:
                send(self.control, FromTemplate.SPAWNED, self.fork_child(fds[0]))
            except OSError as error:
                os.close(fds[0])
                send(self.control, FromTemplate.SPAWN_FAILED, str(error))
            return True
        for fd in fds:
            os.close(fd)
        if kind == ToTemplate.KILL and payload in self.children:
            self.kill_child(int(payload))  # type: ignore[arg-type]
            return True
        return kind != ToTemplate.STOP

    def serve(self) -> None:
        """Fork, kill and reap children until told to stop or orphaned."""
        while os.getppid() == self.settings.parent_pid:
            readable, _, _ = select.select([self.control, self.wake_r], [], [], LOOP_SECONDS)
            if self.wake_r in readable:
                while True:
                    try:
                        if not os.read(self.wake_r, 4096):
                            break
                    except BlockingIOError:
                        break
            self.reap()
            if self.control in readable:
                try:
                    data, fds, _, _ = socket.recv_fds(self.control, MAX_PACKET, 1)
                except OSError:
                    break
                if not data or not self.handle(*pickle.loads(data), fds):  # noqa: S301 (the worker is trusted)
                    break

    def shut_down(self) -> None:
        """Kill every child's group and reap them all."""
        for pid in self.children:
            self.kill_child(pid)
        for pid in list(self.children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.children.clear()


def main(argv: list[str] | None = None) -> int:
    """Run the template on the control socket whose descriptor is the first argument."""
    argv = sys.argv if argv is None else argv
    control = socket.socket(fileno=int(argv[1]))
    control.set_inheritable(False)
    disable_core_dumps()
    take_orders_only_from_the_parent()
    os.chdir("/")
    settings: ChildSettings = pickle.loads(control.recv(MAX_PACKET))  # noqa: S301 (the worker is trusted)
    sys.path[:] = list(settings.sys_path)
    configure_logging(settings.log_level, json_lines=settings.json_logs)
    try:
        plugins = Plugins(settings.plugin_spec)
        warm_up_plugins(plugins, settings)
    except Exception as error:
        send(control, FromTemplate.ERROR, f"the extraction children could not load their plugins: {error}")
        return ChildExit.SOFTWARE_ERROR
    if threading.active_count() > 1:
        names = ", ".join(thread.name for thread in threading.enumerate() if thread is not threading.main_thread())
        log.warning(
            "a plugin started threads (%s) while loading; children are forked from the template process "
            "and get none of them; start threads lazily instead",
            names,
        )
    send(control, FromTemplate.READY, {"pid": os.getpid()})
    template = Template(control, plugins, settings)
    try:
        template.serve()
    finally:
        template.shut_down()
    return ChildExit.OK


if __name__ == "__main__":
    sys.exit(main())
