"""paysandbox: a local sandbox that speaks the real wire protocols of Chinese payment providers."""

__version__ = "0.2.0"
