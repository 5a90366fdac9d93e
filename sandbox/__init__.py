"""paysandbox: a local sandbox that speaks the real wire protocols of Chinese payment providers."""

from sandbox import ctypes_first

__version__ = "0.1.0"

ctypes_first.install()
