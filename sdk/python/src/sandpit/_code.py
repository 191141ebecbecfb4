"""Where code, models and requirements come from: inline text, or a local path the SDK reads."""

from __future__ import annotations

import base64
import os
import re
import shlex
from pathlib import Path

from ._errors import ValidationError

SOURCE_EXTENSIONS = (".py", ".js", ".mjs", ".ts", ".go", ".sh")
_COMMAND_WORDS = {"python", "python3", "node", "deno", "go", "bash", "sh"}
_PATH_PREFIX = re.compile(r"^(/|\./|\.\./|~/)")


def looks_like_path(value: str, extensions: tuple[str, ...] = SOURCE_EXTENSIONS) -> bool:
    """One line, and either starts with ``/``, ``./``, ``../`` or ``~/`` (not ``//``/``/*`` comments),
    or is a single token ending in a known source extension (``inference.py``)."""
    text = value.strip()
    if not text or "\n" in text or len(text) > 4096:
        return False
    if text.startswith("//") or text.startswith("/*"):
        return False
    if _PATH_PREFIX.match(text):
        return True
    return not re.search(r"\s", text) and text.endswith(extensions)


def resolve_local_path(value: str) -> Path:
    return Path(os.path.expanduser(value.strip())).resolve()


def resolve_code(code: str) -> tuple[str, list[dict[str, str]]]:
    """(code to send, files to write into /sandbox). A path is read; a missing one is a ValidationError."""
    if looks_like_path(code):
        path = resolve_local_path(code)
        if not path.is_file():
            raise ValidationError(
                f"code looks like a file path but {path} does not exist (pass source text, or a path to an existing file)",
                field="code",
            )
        return path.read_text(encoding="utf-8"), []
    return code, files_named_by_command(code)


def files_named_by_command(code: str) -> list[dict[str, str]]:
    text = code.strip()
    if "\n" in text:
        return []
    try:
        words = shlex.split(text)
    except ValueError:
        return []
    if not words or words[0] not in _COMMAND_WORDS:
        return []
    files = []
    for word in words[1:]:
        if os.path.isabs(word) or word.startswith("~") or not word.endswith(SOURCE_EXTENSIONS):
            continue
        relative = os.path.normpath(word)
        if relative.startswith(".."):
            continue
        local = Path(relative)
        if local.is_file():
            files.append({"path": relative.replace(os.sep, "/"), "content": base64.b64encode(local.read_bytes()).decode()})
    return files


def is_command_line(text: str) -> bool:
    """One line starting with a command word (``python x.py``): what ``run("...")`` runs."""
    stripped = text.strip()
    if not stripped or "\n" in stripped or len(stripped) > 10_000:
        return False
    return stripped.split(None, 1)[0] in _COMMAND_WORDS


def resolve_requirements(requirements: str) -> str:
    """A requirements string naming an existing ``*.txt`` file becomes that file's text."""
    text = requirements.strip()
    if "\n" not in text and "," not in text and text.endswith(".txt"):
        path = resolve_local_path(text)
        if path.is_file():
            return path.read_text(encoding="utf-8")
        if looks_like_path(text, (".txt",)):
            raise ValidationError(f"requirements looks like a file path but {path} does not exist", field="requirements")
    return requirements
