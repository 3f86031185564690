"""Qamera Desktop: run and review Qamera AI product photo shoots natively."""

__version__ = "0.1.0"
