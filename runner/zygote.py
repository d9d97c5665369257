"""The template process that forks extraction workers.

Started by the parent as ``python -P -m runner.zygote FD`` in a session of its
own, it receives the :class:`~runner.child_process.ChildSettings`, loads the
plugins, imports the heavy libraries and extracts a few tiny files (text, PDF,
Office) to warm them up,
then says ready. From then on it stays single-threaded and does four things on
its control socket (``SOCK_SEQPACKET``, one pickled tuple per packet):

* ``(SPAWN, None)`` with a socket attached: fork a worker that serves jobs on
  that socket (:func:`runner.child_process.run_worker`), answer ``(SPAWNED, pid)``;
* ``(KILL, pid)``: kill that worker's whole process group;
* notice a worker's exit, kill what is left of its group *before* reaping it
  (so the group id cannot have been reused), reap it and send ``(EXITED, (pid, status))``;
* on ``STOP``, end of the socket, or the parent's death: kill every worker's
  group and exit.

A fresh worker thus costs a fork of a warm process instead of an interpreter
start, which keeps recycling cheap.
"""

from __future__ import annotations

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

from extractkit.plugins import Plugins

from .child_process import ERROR, EXIT_ERROR, EXIT_MEMORY, READY, ChildSettings, run_worker
from .resource_limits import disable_core_dumps, has_exited, kill_process_group

SPAWN = "spawn"
SPAWNED = "spawned"
SPAWN_FAILED = "spawn-failed"
KILL = "kill"
EXITED = "exited"
STOP = "stop"

MAX_PACKET = 1024 * 1024
LOOP_SECONDS = 0.5
#: Libraries the builtin extractors import on first use; imported once here so workers inherit them.
WARM_MODULES = ("pypdfium2", "PIL.Image", "pytesseract", "magic", "charset_normalizer", "defusedxml")
WARM_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n4 0 obj<</Length 33>>stream\nBT /F1 12 Tf 20 100 Td (warm) Tj ET\n"
    b"endstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _ignore_signal(signum: int, frame: object) -> None:
    """A no-op handler: unlike ``SIG_IGN`` it is reset to the default in programs the workers exec."""


def take_orders_only_from_the_parent() -> None:
    """Ignore SIGTERM and SIGINT here and in the forked workers.

    The parent stops or kills its children itself; a SIGTERM sent to every process
    at once (systemd's default ``KillMode=control-group``, say) must not kill a
    worker mid-document and turn a shutdown into "crashed" failures. Tools the
    workers run (tesseract) keep the default handling.
    """
    signal.signal(signal.SIGTERM, _ignore_signal)
    signal.signal(signal.SIGINT, _ignore_signal)


def send(control: socket.socket, kind: str, payload: object = None) -> None:
    """Send one control message."""
    control.send(pickle.dumps((kind, payload)))


def _office_samples(directory: Path) -> list[Path]:
    """A docx, xlsx and pptx made by their own libraries (those that are installed)."""
    makers = {
        "warm.docx": lambda path: _save_docx(path),
        "warm.xlsx": lambda path: _save_xlsx(path),
        "warm.pptx": lambda path: _save_pptx(path),
    }
    samples = []
    for name, make in makers.items():
        try:
            make(directory / name)
        except Exception:
            continue
        samples.append(directory / name)
    return samples


def _save_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("warm up")
    document.save(str(path))


def _save_xlsx(path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "warm up"
    workbook.save(str(path))


def _save_pptx(path: Path) -> None:
    import pptx

    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "warm up"
    presentation.save(str(path))


def warm_up(plugins: Plugins, settings: ChildSettings) -> None:
    """Import the heavy libraries and extract a few tiny files, so every worker starts warm."""
    import importlib

    from extractkit.processing import local_document, process_document

    for module in WARM_MODULES:
        try:
            importlib.import_module(module)
        except Exception:
            continue
    with tempfile.TemporaryDirectory(prefix="extractkit-warm-") as directory:
        folder = Path(directory)
        japanese = "文書の抽出を準備しています。\n"
        texts = {
            "warm.txt": b"warm up\n",
            "warm-ja.txt": japanese.encode("utf-8"),
            "warm-sjis.txt": japanese.encode("shift_jis"),
            "warm.pdf": WARM_PDF,
        }
        for name, data in texts.items():
            (folder / name).write_bytes(data)
        for path in [*(folder / name for name in texts), *_office_samples(folder)]:
            try:
                process_document(local_document(path), plugins, settings.options)
            except Exception:
                continue


class Zygote:
    """The template's state: its control socket, the warm plugins and the live workers."""

    def __init__(self, control: socket.socket, plugins: Plugins, settings: ChildSettings) -> None:
        self.control = control
        self.plugins = plugins
        self.settings = settings
        self.workers: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)

    def fork_worker(self, fd: int) -> int:
        """Fork a worker serving jobs on ``fd``; in the worker this never returns."""
        pid = os.fork()
        if pid:
            os.close(fd)
            self.workers.add(pid)
            return pid
        status = EXIT_ERROR
        try:
            self.control.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            status = run_worker(fd, self.plugins, self.settings)
        except MemoryError:
            status = EXIT_MEMORY
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)

    def kill_worker(self, pid: int) -> None:
        """Kill a worker's group, and the worker itself in case it has not called ``setsid`` yet.

        Safe against pid reuse: the worker is this process's child and is not reaped yet.
        """
        kill_process_group(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self) -> None:
        """Report every worker that has exited, after killing the rest of its group."""
        for pid in [pid for pid in self.workers if has_exited(pid)]:
            kill_process_group(pid)
            _, status = os.waitpid(pid, 0)
            self.workers.discard(pid)
            send(self.control, EXITED, (pid, os.waitstatus_to_exitcode(status)))

    def handle(self, kind: str, payload: object, fds: list[int]) -> bool:
        """Act on one control message; False means stop."""
        if kind == SPAWN and fds:
            try:
                send(self.control, SPAWNED, self.fork_worker(fds[0]))
            except OSError as error:
                os.close(fds[0])
                send(self.control, SPAWN_FAILED, str(error))
            return True
        for fd in fds:
            os.close(fd)
        if kind == KILL and payload in self.workers:
            self.kill_worker(int(payload))  # type: ignore[arg-type]
            return True
        return kind != STOP

    def serve(self) -> None:
        """Fork, kill and reap workers until told to stop or orphaned."""
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
                if not data or not self.handle(*pickle.loads(data), fds):  # noqa: S301 (the parent is trusted)
                    break

    def shut_down(self) -> None:
        """Kill every worker's group and reap them all."""
        for pid in self.workers:
            self.kill_worker(pid)
        for pid in list(self.workers):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.workers.clear()


def main(argv: list[str] | None = None) -> int:
    """Run the template on the control socket whose descriptor is the first argument."""
    argv = sys.argv if argv is None else argv
    control = socket.socket(fileno=int(argv[1]))
    control.set_inheritable(False)
    disable_core_dumps()
    take_orders_only_from_the_parent()
    os.chdir("/")
    settings: ChildSettings = pickle.loads(control.recv(MAX_PACKET))  # noqa: S301 (the parent is trusted)
    sys.path[:] = list(settings.sys_path)
    try:
        plugins = Plugins(settings.plugin_spec)
        warm_up(plugins, settings)
    except Exception as error:
        send(control, ERROR, f"the extraction workers could not load their plugins: {error}")
        return EXIT_ERROR
    if threading.active_count() > 1:
        names = ", ".join(thread.name for thread in threading.enumerate() if thread is not threading.main_thread())
        print(
            f"extractkit: a plugin started threads ({names}) while loading; workers are forked from this "
            "process and get none of them; start threads lazily instead",
            file=sys.stderr,
        )
    send(control, READY, {"pid": os.getpid()})
    zygote = Zygote(control, plugins, settings)
    try:
        zygote.serve()
    finally:
        zygote.shut_down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
