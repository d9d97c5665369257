"""Resource limits for extraction children: rlimits inside the child, memory sampling and group kills outside.

Inside a child (see :mod:`runner.isolation.child`):

* ``RLIMIT_CORE`` is 0, so a crashing parser leaves no core file behind;
* ``RLIMIT_AS`` caps the address space at the child's size after start-up plus
  the memory cap plus a fixed headroom (``ADDRESS_SPACE_HEADROOM_MB``) for
  lazily imported libraries and thread arenas. A runaway Python allocation then
  fails at once with ``MemoryError``; grandchildren (tesseract, pdftoppm) inherit
  the same cap;
* ``RLIMIT_CPU`` gets a fresh soft limit before every document (the counter is
  cumulative over the child's life), so a CPU-bound loop dies by ``SIGXCPU``.

Outside, the worker samples the resident memory of the child's whole process
tree with psutil, and the template process kills the child's whole process group
when it passes the cap.
"""

from __future__ import annotations

import math
import os
import resource
import signal
from dataclasses import dataclass

import psutil

MIB = 1024 * 1024

#: Address space granted beyond the cap, for libraries imported on first use and per-thread malloc arenas.
ADDRESS_SPACE_HEADROOM_MB = 256


def _soft_limit_within_hard(kind: int, soft: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def disable_core_dumps() -> None:
    """Make sure a crashing child writes no core file."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def current_address_space() -> int:
    """The calling process's virtual memory size in bytes."""
    return int(psutil.Process().memory_info().vms)


def limit_address_space(memory_mb: int) -> int:
    """Cap this process's address space at its current size plus ``memory_mb`` and the headroom.

    Returns the limit in bytes. Only the soft limit is lowered, so the hard limit
    stays where the system put it.
    """
    limit = current_address_space() + (memory_mb + ADDRESS_SPACE_HEADROOM_MB) * MIB
    _soft_limit_within_hard(resource.RLIMIT_AS, limit)
    return limit


def cpu_seconds_used() -> float:
    """CPU time (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def grant_cpu_budget(seconds: float) -> None:
    """Let this process use ``seconds`` more CPU time before the kernel sends ``SIGXCPU``."""
    _soft_limit_within_hard(resource.RLIMIT_CPU, math.ceil(cpu_seconds_used() + seconds))


@dataclass(frozen=True)
class TreeMemory:
    """One sample of a child's memory use."""

    resident: int
    """Resident bytes of the child and all its descendants together."""
    leader_virtual: int
    """Virtual size of the child itself, to compare with its address-space limit."""


def sample_tree_memory(process: psutil.Process) -> TreeMemory | None:
    """Measure the resident memory of ``process`` and its descendants; ``None`` once it is gone."""
    try:
        info = process.memory_info()
        descendants = process.children(recursive=True)
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    resident = info.rss
    for descendant in descendants:
        try:
            resident += descendant.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return TreeMemory(resident=resident, leader_virtual=info.vms)


def kill_process_group(pgid: int) -> None:
    """Send ``SIGKILL`` to every process in the group; a group that is already gone is fine."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def has_exited(pid: int) -> bool:
    """True when the child ``pid`` has exited, without reaping it (its pid and group stay reserved)."""
    try:
        status = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return status is not None


def describe_exit(returncode: int) -> str:
    """Say how a process ended: ``"SIGSEGV"`` for a signal, ``"exit status 3"`` otherwise."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"
