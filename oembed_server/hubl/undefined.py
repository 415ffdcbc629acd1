"""HubL's undefined value: chainable and empty, but never callable.

In HubL ``module.missing.deeper`` renders as nothing, so templates can probe optional
values without guards. Jinja2's ``ChainableUndefined`` gives that; what it lacks is a
loud failure for calling something that does not exist (``crm_objcts(...)`` would fail
with a vague "is undefined"), which is the typo a preview exists to catch.
"""
from __future__ import annotations

from jinja2 import ChainableUndefined
from jinja2.utils import missing

from oembed_server.hubl.hubl_errors import UnknownNameError


class HublUndefined(ChainableUndefined):
    __slots__ = ()

    def __call__(self, *args, **kwargs):
        name = self._undefined_name or "<unnamed>"
        if self._undefined_obj is missing:
            raise UnknownNameError(f"unknown function {name!r}")
        owner = type(self._undefined_obj).__name__
        raise UnknownNameError(f"unknown function {name!r} (called as a method of a {owner})")

    def __str__(self) -> str:
        return ""

    # HubL's `|int`, `|float` and `|round` turn a missing value into 0, as they do for null.
    # (Jinja2 types Undefined's own as NoReturn, since they raise: returning is the point.)
    def __int__(self) -> int:  # type: ignore[override]
        return 0

    def __float__(self) -> float:  # type: ignore[override]
        return 0.0
