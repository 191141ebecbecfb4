"""A sandbox's ``model``: a store name, a hub id, a local folder (uploaded to the server's model store first) or ``{name, path}``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from ._code import resolve_local_path
from ._errors import ConflictError, ValidationError

# Store names: a folder name, optionally org/name (the server's MODEL_NAME_PATTERN).
_STORE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")
_PATH_PREFIX = re.compile(r"^(/|\./|\.\./|~/)")
_HASH_BLOCK = 1024 * 1024


@dataclass
class ModelUpload:
    """What :func:`upload_model` did: the store name and how many bytes it sent (0 when the store had them all)."""

    name: str
    files: int
    sent_bytes: int
    skipped_bytes: int


def is_model_path(model: str) -> bool:
    """Whether a ``model`` string names a local folder (``./m``, ``../m``, ``/abs/m``, ``~/m``) rather than a store name or hub id."""
    text = model.strip()
    return bool(_PATH_PREFIX.match(text)) or text in (".", "..")


def store_name_for(folder: Path) -> str:
    """A local folder's name as a store name: characters the store refuses become ``-``."""
    name = re.sub(r"^[^A-Za-z0-9]+", "", re.sub(r"[^A-Za-z0-9._-]", "-", folder.name))
    if not name:
        raise ValidationError(f"model: cannot make a model name from {folder}; pass {{name, path}}", field="model")
    return name


def plan_model(model: Any) -> tuple[str, Optional[Path]]:
    """``(name, folder)``: the store name to send, and the local folder to upload under it first (or None).

    A path that is not a folder here names the store's model of that folder name (uploaded earlier, perhaps from
    another machine), as the published SDK treats a path it cannot find as a name; the server says if it lacks it.
    """
    if isinstance(model, str):
        text = model.strip()
        if not text:
            raise ValidationError("model: expected a model name, a hub id or a folder path", field="model")
        if not is_model_path(text):
            return text, None
        folder = resolve_local_path(text)
        return store_name_for(folder), (folder if folder.is_dir() else None)
    if isinstance(model, Mapping):
        unknown = set(model) - {"name", "path"}
        if unknown:
            raise ValidationError(f"model: unknown field {sorted(unknown)[0]} (expected {{name, path}})", field="model")
        name = model.get("name")
        if not isinstance(name, str) or not _STORE_NAME.match(name):
            raise ValidationError("model: name must be a store name like my-model or org/my-model", field="model")
        path = model.get("path")
        if path is None:
            return name, None
        if not isinstance(path, str) or not path.strip():
            raise ValidationError("model: path must be a folder path", field="model")
        folder = resolve_local_path(path)
        # With an explicit {name, path} the folder is the point: a missing one is a mistake, not a name.
        if not folder.is_dir():
            raise ValidationError(f"model: {folder} is not a folder", field="model")
        return name, folder
    raise ValidationError("model: expected a model name, a hub id, a folder path or {name, path}", field="model")


def list_model_files(folder: Path) -> list[tuple[str, Path, int]]:
    """``(relative path, local path, size)`` of a model folder's files. Hidden entries (``.git``, ``.cache``) are left
    out (the store refuses names starting with a dot), links are followed (a Hugging Face cache snapshot is links),
    empty files are left out (the store keeps no empty blobs)."""
    found: list[tuple[str, Path, int]] = []

    def walk(directory: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(directory), key=lambda item: item.name):
            if entry.name.startswith("."):
                continue
            relative = f"{prefix}/{entry.name}" if prefix else entry.name
            if entry.is_dir():
                walk(Path(entry.path), relative)
            elif entry.is_file():
                size = entry.stat().st_size
                if size > 0:
                    found.append((relative, Path(entry.path), size))

    walk(folder, "")
    if not found:
        raise ValidationError(f"model: {folder} holds no files to upload", field="model")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _read_range(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


async def upload_model(client: Any, name: str, folder: Path) -> ModelUpload:
    """Puts a local model folder into the server's model store under ``name`` (README "Model store"): hashes every
    file, asks which blobs the store lacks (and how much of each an interrupted upload left), sends only those in
    chunks from that offset, and commits the manifest. Blobs the store has, from any model, are not sent again."""
    listed = await asyncio.to_thread(list_model_files, folder)
    files: list[dict[str, Any]] = []
    local_by_sha: dict[str, Path] = {}
    for relative, local, size in listed:
        digest = await asyncio.to_thread(_sha256, local)  # off the loop: gigabytes take a while
        files.append({"path": relative, "sha256": digest, "size": size})
        local_by_sha[digest] = local
    manifest = {"name": name, "files": files}
    plan = await client.request("POST", "/api/v1/models/uploads", body=manifest)
    sent = 0
    for blob in plan["missing"]:
        sent += await _send_blob(client, local_by_sha[blob["sha256"]], blob, int(plan["chunkMaxBytes"]))
    await client.request("POST", "/api/v1/models/commits", body=manifest, timeout=600)
    total = sum(file["size"] for file in files)
    return ModelUpload(name=name, files=len(files), sent_bytes=sent, skipped_bytes=total - sent)


async def _send_blob(client: Any, local: Path, blob: Mapping[str, Any], chunk_max: int) -> int:
    """Sends one blob from its offset in chunks; a 409 naming another offset (a parallel or earlier upload) resumes there."""
    size, offset, sent, conflicts = int(blob["size"]), int(blob["offset"]), 0, 0
    while offset < size:
        length = min(chunk_max, size - offset)
        chunk = await asyncio.to_thread(_read_range, local, offset, length)
        if len(chunk) != length:
            raise ValidationError(f"model: {local} changed while it was being uploaded", field="model")
        try:
            answer = await client.request_bytes(
                "PUT", f"/api/v1/models/blobs/{blob['sha256']}", chunk, {"content-range": f"bytes {offset}-{offset + length - 1}/{size}"}
            )
        except ConflictError as error:
            resume_at = (error.details or {}).get("offset")
            conflicts += 1
            if not isinstance(resume_at, int) or conflicts > 5:
                raise
            offset = resume_at
            continue
        sent += length
        if answer.get("complete") is True:
            break
        offset = answer["received"] if isinstance(answer.get("received"), int) else offset + length
    return sent
