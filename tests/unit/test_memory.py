"""Allocator tuning: applied on glibc Linux, a harmless no-op elsewhere."""

import sys

import pytest

from qamera_desktop import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_glibc_accepts_the_tuning():
    assert memory.tune_allocator() is True
    assert memory.tune_allocator() is True  # idempotent


def test_other_platforms_are_left_alone(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    assert memory.tune_allocator() is False


def test_a_libc_without_mallopt_is_left_alone(monkeypatch):
    class NoMallopt:
        def __init__(self, name):
            pass

    monkeypatch.setattr(memory.ctypes, "CDLL", NoMallopt)
    assert memory.tune_allocator() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_the_tuning_starts_no_program(monkeypatch):
    """libc is looked up in the process itself: ctypes.util.find_library would run ldconfig (or a
    compiler) at every start."""

    def no_program(*args, **kwargs):
        raise AssertionError(f"a program was started: {args}")

    monkeypatch.setattr("subprocess.Popen", no_program)
    assert memory.tune_allocator() is True
