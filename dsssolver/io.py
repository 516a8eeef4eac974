"""Reading layers and arrays from files, with errors that name the problem."""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from ._validate import as_layer

__all__ = ["load_array", "load_layer", "load_json"]


def _check_path(path):
    if not os.path.exists(path):
        raise ValueError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a file")


def _open(path):
    """``np.load`` with one-line errors for missing, directory and unreadable files."""
    _check_path(path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read as .npy/.npz ({exc})") from None


def load_array(path):
    """Load one array from ``.npy`` (or the single array of an ``.npz``)."""
    data = _open(path)
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            keys = list(data.keys())
            if len(keys) != 1:
                raise ValueError(f"{path}: expected one array, found {keys}")
            return data[keys[0]]
    return data


def load_layer(path):
    """Load ``(W, b)`` from ``.npz`` (arrays ``W`` and optional ``b``) or ``.npy`` (W alone).

    Raises
    ------
    ValueError
        If the file is missing, unreadable, lacks ``W``, or holds invalid arrays.
    """
    data = _open(path)
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            if "W" not in data.files:
                raise ValueError(f"{path}: no array named 'W' (found {data.files})")
            try:
                W = data["W"]
                b = data["b"] if "b" in data.files else None
            except (ValueError, OSError, zipfile.BadZipFile) as exc:
                raise ValueError(f"{path}: corrupt array ({exc})") from None
    else:
        W, b = data, None
    try:
        return as_layer(W, b)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def load_json(path):
    """Load a JSON document, with a one-line error for missing or malformed files."""
    _check_path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read as JSON ({exc})") from None
