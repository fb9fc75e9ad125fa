"""common.memory: the cyclic collector paused around a bulk request, and always resumed."""

from __future__ import annotations

import gc

import pytest

from common.memory import cyclic_gc_paused


def test_the_collector_is_paused_inside_and_resumed_after_an_error():
    assert gc.isenabled()
    seen = []

    def fails():
        with cyclic_gc_paused():
            seen.append(gc.isenabled())
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails()

    assert seen == [False]

    assert gc.isenabled()


def test_a_nested_block_leaves_the_collector_paused():
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
