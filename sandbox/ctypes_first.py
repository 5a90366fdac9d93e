"""pycryptodome on its ctypes binding: with cffi installed it binds through cffi, whose C parser (pycparser) reads
each module's C declarations at import, 40 ms of every start; the ctypes binding loads the same compiled code.

Installed by sandbox/__init__.py as an import hook, so nothing is paid until pycryptodome is first imported."""

from __future__ import annotations

import importlib.machinery
import sys

BINDING = "Crypto.Util._raw_api"  # pycryptodome chooses cffi when `import cffi` succeeds, else ctypes


class _CtypesFirst:
    """A meta path finder that steps in for BINDING only, once."""

    def find_spec(self, name: str, path, target=None):
        if name != BINDING:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None and "cffi" not in sys.modules:
            spec.loader = _WithoutCffi(spec.loader)
        return spec


class _WithoutCffi:
    """Runs the module with `import cffi` failing; cffi stays importable for anything else afterwards."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        sys.modules["cffi"] = None
        try:
            self._loader.exec_module(module)
        finally:
            if "cffi" in sys.modules and sys.modules["cffi"] is None:
                del sys.modules["cffi"]


def install() -> None:
    if BINDING not in sys.modules and not any(isinstance(finder, _CtypesFirst) for finder in sys.meta_path):
        sys.meta_path.insert(0, _CtypesFirst())
