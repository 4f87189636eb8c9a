"""File storage for uploads: instance/uploads/ by default, never under static/.

Files get server-generated names; the original name is only ever metadata. Stored files are
served by the views of the slice that owns them, after that slice's authorisation check.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app


class StorageError(Exception):
    pass


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def save_bytes(data: bytes, folder: str, extension: str) -> str:
    """Store `data` under a new random name in `folder`; returns the storage key."""
    if not folder.isidentifier() or not extension.isalnum():
        raise StorageError("bad folder or extension")
    directory = upload_root() / folder
    directory.mkdir(parents=True, exist_ok=True)
    key = f"{folder}/{secrets.token_hex(16)}.{extension.lower()}"
    path = upload_root() / key
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    return key


def path_for(key: str) -> Path:
    """The file behind a storage key; refuses keys that would leave the upload root."""
    root = upload_root().resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise StorageError("key outside the upload root")
    return path


def read_bytes(key: str) -> bytes:
    return path_for(key).read_bytes()


def delete(key: str) -> None:
    path_for(key).unlink(missing_ok=True)
