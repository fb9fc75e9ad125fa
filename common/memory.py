"""Python's cyclic garbage collector paused around a bulk request.

An import of 20,000 rows makes some hundreds of thousands of lists, tuples and objects (the
table, the plan, a RowResult per row) that all stay alive until the response; each of them
counts towards the collector's thresholds, and every full collection walks all of them and
everything else the process holds: in the admin's preview and confirmation of finance's sheet,
five full collections took 0.5–0.7 s of a 2.2 s round trip and freed nothing
(docs/performance.md, "Finance import"). Reference counting still frees every object as soon as
it is dropped; only cycles wait for the collector, which runs again when the block ends.

Process-wide: gunicorn's workers here serve one request at a time (config/settings/production.py).
A block entered while the collector is already paused leaves it paused.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
