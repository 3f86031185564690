"""`python -m qamera_desktop` is the same program as `qamera-desktop`."""

from qamera_desktop.cli import main

raise SystemExit(main())
