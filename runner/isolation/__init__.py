"""Process isolation for extraction: a pool of child processes forked from a warm template process.

The worker (the ``extractkit run`` service) hands each document to one of
``max_workers`` child slots. The modules, read in the order a document travels:

* :mod:`~runner.isolation.pool`: :class:`IsolatedExecutor`, the pool of child slots and its limits;
* :mod:`~runner.isolation.handles`: the worker's side of the template process and of each child;
* :mod:`~runner.isolation.template`: the template process that forks and reaps the children;
* :mod:`~runner.isolation.child`: the child's job loop, one document after another;
* :mod:`~runner.isolation.limits`: rlimits inside a child, memory sampling and group kills outside;
* :mod:`~runner.isolation.deaths`: how a child that was killed or died becomes a classified failure;
* :mod:`~runner.isolation.protocol`: the message kinds and exit statuses, and the restricted unpickler.

:class:`~extractkit.executors.InProcessExecutor` (no isolation) lives in the core
and is re-exported here for existing imports.
"""

from __future__ import annotations

from extractkit.executors import InProcessExecutor

from .handles import ChildStartError
from .pool import IsolatedExecutor, IsolationLimits

__all__ = ["ChildStartError", "InProcessExecutor", "IsolatedExecutor", "IsolationLimits"]
