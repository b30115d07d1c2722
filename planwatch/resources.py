"""Finds the folders that ship beside the code: in a checkout they sit at the top of the repo (the
design card's layout); in an installed wheel they are carried inside the planwatch package."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"Planwatch's {name}/ folder is missing from this installation")


def data_file(name: str) -> Path:
    return _PACKAGE / "data" / name
