"""The one writer: every file chainrule writes goes through :class:`Output`.

* Files are written into a temporary folder first (inside the output folder, or beside it
  when the output folder does not exist yet) and moved into place only when all of them are
  complete: a failure leaves nothing behind.
* Every output folder holds a manifest, ``.chainrule-manifest.json``, recording each file
  chainrule wrote there with its SHA-256.
* An existing file is replaced only with ``force``, and only when the manifest lists it with
  an unchanged hash. A file chainrule did not write, or one edited since, is never replaced
  or deleted: it is named in a one-line error (or, for a file of another name, kept).
* Impossible paths (``/proc/x``, ``afile.txt/sub``, a folder given as a file) are one-line
  errors naming the path.

Files and folders get the usual permissions (the process umask), not a temporary file's 0600.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TextIO

from chainrule.errors import ChainruleError

__all__ = ["MANIFEST", "Output", "check_file", "check_output", "write_file"]

#: The manifest file of every output folder.
MANIFEST = ".chainrule-manifest.json"
_STAGING = ".chainrule-tmp-"
_MAX_MANIFEST_BYTES = 5_000_000


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _os_error(path: Path | str, exc: OSError) -> ChainruleError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOTDIR,):
        reason = "a part of the path is a file, not a folder"
    return ChainruleError(f"{path}: cannot write here: {reason}")


def read_manifest(folder: Path) -> dict[str, str] | None:
    """The files chainrule wrote into ``folder`` (name -> sha256), or None without a manifest."""
    path = folder / MANIFEST
    try:
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ChainruleError(f"{path}: is too large to be chainrule's manifest")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise ChainruleError(f"{path}: is not a manifest chainrule can read; remove it or "
                             "choose another output folder") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise ChainruleError(f"{path}: is not a manifest chainrule can read; remove it or "
                             "choose another output folder")
    return files


def _first_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and not probe.is_symlink():
        if probe.parent == probe:
            break
        probe = probe.parent
    return probe


def _check_location(folder: Path, shown: str, whole: bool) -> None:
    """The folder exists as a folder, or can be created: nothing on its way is a file."""
    if folder.exists() and not folder.is_dir():
        if whole:
            raise ChainruleError(f"{shown}: exists and is not a folder")
        raise ChainruleError(f"{shown}: cannot write here: {folder} is a file, not a folder")
    anchor = _first_existing(folder)
    if anchor != folder and not anchor.is_dir():
        raise ChainruleError(f"{shown}: cannot write here: {anchor} is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise ChainruleError(f"{shown}: cannot write here: {anchor} is not writable")


class Output:
    """An output folder being written: stage files, then :meth:`commit` moves them in place.

    ``whole=True`` (a problem set, a training run): the folder is the output. An existing
    folder that holds anything is refused without ``force``; with it, the files of the last
    run (listed in the manifest, unchanged) are replaced or removed, and files chainrule did
    not write are kept, unless the new output needs their name.

    ``whole=False`` (one file such as ``--out quiz.xml``): only the names written matter.

    Checks happen when the object is made, so a command can check before any work; the
    staging folder is made on entering the ``with`` block and removed on leaving it.
    """

    def __init__(self, folder: str | Path, *, force: bool = False, whole: bool = True,
                 names: Iterable[str] = (), shown: str | None = None,
                 label: str | None = None) -> None:
        self.shown = shown if shown is not None else str(folder)
        #: What errors about the whole output name: the folder, or the one file.
        self.label = label if label is not None else self.shown
        self.folder = Path(os.path.abspath(folder))
        self.force = force
        self.whole = whole
        self.staging: Path | None = None
        self.kept: list[str] = []
        self._created: list[Path] = []
        self._check(list(names))

    # -- checks --------------------------------------------------------------------------

    def _check(self, names: list[str]) -> None:
        if self.folder.parent == self.folder:
            raise ChainruleError(f"{self.label}: cannot write into the root folder")
        _check_location(self.folder, self.label, self.whole)
        if not self.folder.is_dir():
            return
        try:
            present = [p.name for p in self.folder.iterdir() if not p.name.startswith(_STAGING)]
        except OSError as exc:
            raise _os_error(self.label, exc) from None
        ours = read_manifest(self.folder)
        foreign = [n for n in present if n != MANIFEST and (ours is None or n not in ours)]
        if self.whole:
            if not present:
                return
            if not self.force:
                raise ChainruleError(f"{self.shown}: exists; use --force to replace the files "
                                     "chainrule wrote there")
            if ours is None:
                raise ChainruleError(
                    f"{self.shown}: exists and has no chainrule manifest ({MANIFEST}), so "
                    "none of its files is known to be chainrule's: --force replaces nothing "
                    "there; choose another folder")
            self._check_unchanged(ours, [n for n in ours if (self.folder / n).exists()])
        else:
            existing = [n for n in names if (self.folder / n).exists()]
            if existing and not self.force:
                raise ChainruleError(f"{self._show(existing[0])}: exists; use --force to "
                                     "replace it")
            if existing and (ours is None or any(n not in ours for n in existing)):
                bad = next(n for n in existing if ours is None or n not in ours)
                raise ChainruleError(f"{self._show(bad)}: chainrule did not write this file, "
                                     "so --force does not replace it; move it away or choose "
                                     "another --out")
            if ours is not None:
                self._check_unchanged(ours, existing)
        self._foreign = foreign
        self._check_collisions(names, ours)

    def _show(self, name: str) -> str:
        return str(Path(self.shown) / name)

    def _check_unchanged(self, ours: dict[str, str], names: list[str]) -> None:
        for name in names:
            path = self.folder / name
            if not path.is_file() or _digest(path) != ours[name]:
                raise ChainruleError(
                    f"{self._show(name)}: changed since chainrule wrote it, so --force does "
                    "not replace it; move it away or choose another folder")

    def _check_collisions(self, names: Iterable[str], ours: dict[str, str] | None) -> None:
        for name in names:
            target = self.folder / name
            if target.exists() and (ours is None or name not in ours):
                raise ChainruleError(f"{self._show(name)}: chainrule did not write this file, "
                                     "so it does not replace it; move it away or choose "
                                     "another folder")

    # -- staging -------------------------------------------------------------------------

    def __enter__(self) -> Output:
        try:
            if self.folder.is_dir():
                base = self.folder
            else:
                missing = []
                probe = self.folder.parent
                while not probe.exists():
                    missing.append(probe)
                    probe = probe.parent
                for path in reversed(missing):
                    path.mkdir()
                    self._created.append(path)
                base = self.folder.parent
            prefix = _STAGING if base == self.folder else f".{self.folder.name}{_STAGING}"
            self.staging = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
            os.chmod(self.staging, 0o777 & ~_umask())
        except OSError as exc:
            self._cleanup()
            raise _os_error(self.label, exc) from None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self.staging is not None and self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)
        self.staging = None
        for path in reversed(self._created):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        self._created = []

    @property
    def path(self) -> Path:
        """The staging folder: tools (LaTeX, matplotlib) may write their files into it."""
        if self.staging is None:
            raise RuntimeError("Output used outside its with block")
        return self.staging

    def write(self, name: str, data: str | bytes) -> Path:
        """Stage file ``name`` with ``data``."""
        target = self.path / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        except OSError as exc:
            raise _os_error(self.label, exc) from None
        return target

    def open(self, name: str) -> TextIO:
        """Stage file ``name`` to be written piece by piece (text, UTF-8); close it before
        :meth:`commit`. For outputs too large to hold in memory whole."""
        target = self.path / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            return target.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise _os_error(self.label, exc) from None

    def commit(self) -> list[str]:
        """Move every staged file into the folder and record it in the manifest; returns the
        names written. Files chainrule did not write are kept (see :attr:`kept`)."""
        staging = self.path
        mask = _umask()
        names = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        try:
            for name in names:
                os.chmod(staging / name, 0o666 & ~mask)
            if not self.folder.exists():
                staging.rename(self.folder)
                self.staging = self.folder / staging.name  # nothing left to clean there
                manifest = {n: _digest(self.folder / n) for n in names}
                self._write_manifest(manifest)
                self._created = []
                return names
            ours = read_manifest(self.folder) or {}
            self._check_collisions(names, ours)
            stale = [n for n in ours if n not in names] if self.whole else []
            self._check_unchanged(ours, [n for n in (*names, *stale)
                                         if n in ours and (self.folder / n).exists()])
            manifest = {} if self.whole else {
                n: h for n, h in ours.items() if (self.folder / n).is_file()}
            for name in names:
                target = self.folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                manifest[name] = _digest(staging / name)
                os.replace(staging / name, target)
            for name in stale:
                (self.folder / name).unlink(missing_ok=True)
            self._write_manifest(manifest)
        except OSError as exc:
            raise _os_error(self.label, exc) from None
        self.kept = sorted(n for n in getattr(self, "_foreign", []) if n not in names)
        self._created = []
        return names

    def _write_manifest(self, files: dict[str, str]) -> None:
        text = json.dumps({"written_by": "chainrule", "files": dict(sorted(files.items()))},
                          indent=1) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=f"{MANIFEST}.", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, self.folder / MANIFEST)


def check_output(folder: str | Path, *, force: bool = False) -> Output:
    """Check that ``folder`` can take a whole output (see :class:`Output`), before any work."""
    return Output(folder, force=force, whole=True)


def check_file(path: str | Path, *, force: bool = False) -> Output:
    """Check that one file can be written at ``path`` (see :func:`write_file`), before any
    work; returns the :class:`Output` of its folder."""
    shown = str(path)
    target = Path(os.path.abspath(path))
    if shown in ("", ".", "..") or target.is_dir() or shown.endswith(("/", os.sep)):
        raise ChainruleError(f"{shown}: is a folder; give a file name")
    if target.name == MANIFEST or target.name.startswith(_STAGING):
        raise ChainruleError(f"{shown}: this name is chainrule's own; choose another")
    return Output(target.parent, force=force, whole=False, names=[target.name],
                  shown=str(Path(shown).parent), label=shown)


def write_file(path: str | Path, data: str | bytes, force: bool = False) -> None:
    """Write one file whole, recorded in its folder's manifest; an existing file is replaced
    only with ``force`` and only if chainrule wrote it and it is unchanged."""
    target = Path(os.path.abspath(path))
    output = check_file(path, force=force)
    with output:
        output.write(target.name, data)
        output.commit()
