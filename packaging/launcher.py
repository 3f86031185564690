"""Entry point of the frozen app (PyInstaller runs this file as __main__)."""

from qamera_desktop.cli import main

raise SystemExit(main())
