"""A fingerprint of an index function's code, so index entries written to disk are reused only by the same code.

The entries of a declared index are written beside the store file (store/image.py) so a restart need not read every
document to compute them again. They are right only for the function that computed them: the fingerprint covers its
bytecode, its constants and, recursively, the functions and constants it reads from its module's globals or its
closure (e.g. `has_something_due`, `namespace_of` and the status strings they compare with). Line numbers are left
out, so moving code does not cost a slow restart; any change of what it computes does.
"""

from __future__ import annotations

import hashlib
import types

SIMPLE = (str, bytes, int, float, bool, type(None))


def fingerprint(fn: object) -> str:
    digest = hashlib.sha256()
    _feed(digest, fn, set())
    return digest.hexdigest()[:32]


def _feed(digest, value: object, seen: set[int]) -> None:
    if isinstance(value, types.FunctionType):
        if id(value) in seen:  # recursion
            return
        seen.add(id(value))
        _feed_code(digest, value.__code__, value.__globals__, seen)
        for cell in value.__closure__ or ():
            _feed(digest, cell.cell_contents, seen)
    elif isinstance(value, SIMPLE):
        digest.update(repr(value).encode("utf-8", "surrogatepass"))
    elif isinstance(value, tuple | frozenset):
        for item in value:
            _feed(digest, item, seen)
    else:  # a module, a class, a builtin: named in the bytecode already; what it does is not ours to fingerprint
        digest.update(type(value).__name__.encode())


def _feed_code(digest, code: types.CodeType, globals_: dict, seen: set[int]) -> None:
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(digest, const, globals_, seen)
        else:
            _feed(digest, const, seen)
    for name in code.co_names:
        if name in globals_:
            _feed(digest, globals_[name], seen)
