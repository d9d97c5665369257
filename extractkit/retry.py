"""The one retry policy: exponential backoff with full jitter, and the delay before a redelivery.

Which layer retries what:

- botocore (S3, SQS) and opensearch-py retry nothing or little on their own (the
  AWS plugins configure botocore with a small ``max_attempts``); their errors
  become :class:`~extractkit.errors.TransientError` subclasses.
- :func:`call_with_retries` retries a transient fetch or delete in process, up to
  ``attempts`` times; the sink batcher retries the records of a batch the same way.
- When those attempts are spent, an item from a redelivering source (a queue) is
  handed back with :meth:`RetryPolicy.redelivery_delay`, and the queue's redrive
  policy bounds how often that happens before the message goes to the DLQ.
"""

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
    #: Seconds before the first redelivery of an item handed back to its source.
    redelivery_base: float = 30.0
    #: The longest a handed-back item waits (SQS allows at most 12 hours).
    redelivery_max: float = 900.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter."""
        return rng() * min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))

    def redelivery_delay(self, deliveries: int) -> int:
        """Whole seconds before an item delivered ``deliveries`` times so far is delivered again."""
        return int(min(self.redelivery_max, self.redelivery_base * (2 ** max(0, deliveries - 1))))


def call_with_retries(
    action: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, TransientError], None] | None = None,
) -> T:
    """Run ``action``; retry it on :class:`TransientError` up to ``policy.attempts`` times.

    The last transient error is re-raised with its ``attempts_made`` set.
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
