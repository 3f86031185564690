from __future__ import annotations

from qamera_desktop.sandbox.stats import SandboxStats, StatsRecorder


def test_max_in_window() -> None:
    stats = SandboxStats(key_timestamps={"k": (0.0, 1.0, 30.0, 59.9, 60.0, 61.0, 200.0)})
    assert stats.max_in_window("k") == 4  # (t - 60, t]: 0.0 .. 59.9, or 1.0 .. 60.0 ...
    assert stats.max_in_window("k", window=1.0) == 2  # 59.9 and 60.0
    assert stats.max_in_window("other") == 0
    assert stats.api_requests("k") == 7


def test_recorder_snapshot_and_reset() -> None:
    recorder = StatsRecorder()
    recorder.request("GET", "/a", "k", 2.0)
    recorder.request("GET", "/a", "k", 1.0)
    recorder.request("POST", "/b", None, 3.0)
    recorder.response(200)
    snapshot = recorder.snapshot()
    assert snapshot.total == 3
    assert snapshot.count("get", "/a") == 2
    assert snapshot.key_timestamps == {"k": (1.0, 2.0)}
    assert snapshot.by_status == {200: 1}
    recorder.reset()
    assert recorder.snapshot() == SandboxStats()
