"""Run one command and measure it: wall time, peak RSS of its process tree, CPU time, and how busy
the rest of the machine was meanwhile (a shared machine makes timings noisy; this says how noisy).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Measured:
    """What one command cost."""

    wall: float
    peak_rss_mb: float
    returncode: int
    cpu_seconds: float
    foreign_cpu: float

    @property
    def foreign_cpu_percent(self) -> float:
        """Share of the machine's CPU capacity used by other processes during the run, in percent."""
        return 100.0 * self.foreign_cpu


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def _busy(times: psutil._common.scputimes) -> float:  # type: ignore[name-defined]
    return sum(
        value for name, value in times._asdict().items() if name not in ("idle", "iowait", "guest", "guest_nice")
    )


def _our_cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime + own.ru_utime + own.ru_stime


def run_measured(command: list[str], env: dict[str, str] | None = None, timeout: float = 1800) -> Measured:
    """Run a command to completion; sample its tree's RSS every SAMPLE_SECONDS."""
    peak = 0
    environment = {**os.environ, **(env or {})}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours_before, machine_before = _our_cpu(), _busy(psutil.cpu_times())
    started = time.perf_counter()
    process = psutil.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, tree_rss(process))
            except psutil.Error:
                pass
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = _our_cpu() - ours_before
    machine = _busy(psutil.cpu_times()) - machine_before
    cpu = (children_after.ru_utime + children_after.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    foreign = max(0.0, machine - ours) / (wall * (os.cpu_count() or 1))
    if process.returncode not in (0, 3):
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    return Measured(wall, peak / 2**20, process.returncode, cpu, foreign)


def wait_for_quiet(threshold_percent: float = 15.0, max_wait: float = 15.0) -> float:
    """Wait (up to ``max_wait`` s) until the machine's CPU use over one second is under the threshold.

    Returns the last CPU use seen, in percent of the whole machine.
    """
    deadline = time.monotonic() + max_wait
    busy = psutil.cpu_percent(interval=1.0)
    while busy > threshold_percent and time.monotonic() < deadline:
        busy = psutil.cpu_percent(interval=1.0)
    return busy
