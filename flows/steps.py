"""How a run's stages are called: directly, or each as a Prefect task.

The flows pass :func:`as_task` so every stage shows in Prefect's UI with its own state and
log; the benchmark and the tests pass :func:`direct` and run the very same stages without
any Prefect API. One list of stages, two ways to call it: the benchmark cannot drift from
production.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
# Tasks take frames and run contexts: hashing them for a cache is slow and pointless.
TASK_OPTIONS: dict[str, Any] = {"persist_result": False}


class Step(Protocol):
    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any) -> T: ...


def direct(name: str, fn: Callable[..., T], /, *args: Any) -> T:
    """Call the stage in this process, without Prefect."""
    return fn(*args)


def as_task(name: str, fn: Callable[..., T], /, *args: Any) -> T:
    """Run the stage as a Prefect task of the current flow run."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    return task(fn, name=name, cache_policy=NO_CACHE, **TASK_OPTIONS)(*args)
