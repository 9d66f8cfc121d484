"""Writing output: whole files and whole folders, never replacing without ``force``.

Everything is written beside its target first and moved into place, so a failure leaves
nothing half-written, and what a user already has is replaced only when asked. Files and
folders get the usual permissions (the process umask), not a temporary file's 0600.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from chainrule.errors import ChainruleError, InputError

__all__ = ["read_text", "write_file", "write_folder"]

#: The largest input file chainrule reads (a givens file, a spec, answers, a class CSV).
MAX_INPUT_BYTES = 10_000_000


def read_text(path: str | Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A UTF-8 text file a person gave; missing, unreadable, binary or huge is an InputError
    naming the file."""
    path = Path(path)
    name = str(path)
    try:
        if path.stat().st_size > max_bytes:
            raise InputError(f"is larger than {max_bytes // 1_000_000} MB: not a {what}",
                             file=name)
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except IsADirectoryError:
        raise InputError(f"is a folder, not a {what}", file=name) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=name) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_file(path: str | Path, data: str | bytes, force: bool = False) -> None:
    """Write ``data`` to ``path`` whole; an existing file is replaced only with ``force``."""
    target = Path(path)
    if target.is_dir():
        raise ChainruleError(f"{target}: is a folder; give a file name")
    if target.exists() and not force:
        raise ChainruleError(f"{target}: exists; use --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_folder(folder: Path, files: Mapping[str, str | bytes], force: bool = False) -> None:
    """Write ``files`` (name -> content) into ``folder`` as a whole: built beside it, then
    moved into place. An existing folder is an error unless ``force``; then it is replaced
    only once the new one is complete."""
    if folder.exists() and not force:
        raise ChainruleError(f"{folder}: exists; use --force to replace it")
    if folder.exists() and not folder.is_dir():
        raise ChainruleError(f"{folder}: exists and is not a folder")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())
        for name, content in files.items():
            target = staging / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            folder.rename(old / folder.name)
            staging.rename(folder)
            shutil.rmtree(old)
        else:
            staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
