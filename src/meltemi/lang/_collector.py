"""Pausing Python's cyclic garbage collector while big trees of objects are built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector for the duration of the block.

    Reading a document or rebuilding a spec makes hundreds of thousands of small
    objects that all stay alive, and the collector would walk all of them again and
    again (more than half the time for a 10,000-task workflow). Nothing built here
    forms cycles that need it. The collector is switched back on only if it was on,
    so that nested or concurrent uses leave it as they found it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
