"""The command line (qamera_desktop/cli.py) and the LaunchOptions it builds
(qamera_desktop/launch_options.py), which the app uses without importing the CLI."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from qamera_desktop.cli import build_parser, main, parse_args
from qamera_desktop.launch_options import API_URL_ENV, DEFAULT_API_URL, LaunchOptions


def test_no_arguments_mean_the_account_of_the_configured_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(API_URL_ENV, raising=False)
    assert parse_args([]) == LaunchOptions(
        demo=False,
        api_url=None,
        data_dir=None,
        self_test=False,
        screenshot=None,
        sandbox_fast=False,
    )


def test_every_option_reaches_the_launch_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_URL_ENV, "https://from-the-environment.example")
    options = parse_args(
        ["--demo", "--data-dir", "/tmp/q", "--self-test", "--screenshot", "s.png", "--sandbox-fast"]
    )
    assert options == LaunchOptions(
        demo=True,
        api_url="https://from-the-environment.example",
        data_dir=Path("/tmp/q"),
        self_test=True,
        screenshot=Path("s.png"),
        sandbox_fast=True,
    )
    assert parse_args(["--api-url", "https://x.example"]).api_url == "https://x.example"
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.demo = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "argv",
    [
        ["--screenshot", "s.png"],  # goes with --self-test
        ["--thumbnail-worker"],  # the former internal worker flag is an unknown argument now
        ["--api-key", "mk_live_abc123.secret456"],  # keys never come from the command line
    ],
)
def test_wrong_arguments_are_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert "usage: qamera-desktop" in capsys.readouterr().err


def test_help_names_the_default_url_and_the_variables() -> None:
    text = build_parser().format_help()
    for word in (DEFAULT_API_URL, "$QAMERA_API_URL", "$QAMERA_API_KEY"):
        assert word in text


def test_the_cli_imports_no_qt_and_the_app_does_not_import_the_cli() -> None:
    probe = (
        "import sys\n"
        "import qamera_desktop.cli\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'qasync'))]\n"
        "del sys.modules['qamera_desktop.cli']\n"
        "import qamera_desktop.app, qamera_desktop.ui.app_controller\n"
        "assert 'qamera_desktop.cli' not in sys.modules, 'the app imports the CLI'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_export_is_a_subcommand_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["export", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: qamera-desktop export")
    for option in ("--to DIR", "--filter", "--product", "--demo", "--api-url", "--data-dir"):
        assert option in out
    assert "qamera-desktop export --to DIR" in build_parser().format_help()  # the app's help


def test_export_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "f"
    a_file.write_text("x")
    for argv in (["export"], ["export", "--to", str(a_file)], ["export", "--to", "d", "--x"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2
        assert "usage: qamera-desktop export" in capsys.readouterr().err


def test_the_export_command_imports_no_qt_and_no_ui() -> None:
    probe = (
        "import sys\n"
        "import qamera_desktop.export_command\n"
        "bad = [m for m in sys.modules if m.startswith("
        "('PySide6', 'shiboken6', 'qasync', 'qamera_desktop.ui', 'qamera_desktop.app'))]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
