"""Retrying transient failures with exponential backoff and full jitter."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from .errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter."""
        return rng() * min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))


def call_with_retries(
    action: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, TransientError], None] | None = None,
) -> T:
    """Run ``action``; retry it on :class:`TransientError` up to ``policy.attempts`` times.

    The last transient error is re-raised with an ``attempts_made`` attribute.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return action()
        except TransientError as error:
            error.attempts_made = attempt
            if attempt == policy.attempts:
                raise
            if on_retry is not None:
                on_retry(attempt, error)
            sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
