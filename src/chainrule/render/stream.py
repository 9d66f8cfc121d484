"""Writing a large problem set as it is drawn: memory stays flat whatever the count.

The problems are drawn in chunks. Each document (questions and solutions in Markdown and
LaTeX per version, the LaTeX key) is rendered by its own template, unchanged, in its own
thread: the template's ``problems`` is a stream that hands over each chunk's contexts as
the chunk is drawn, and the rendered text goes straight to the document's staged file
(Markdown's math rewritten for GitHub part by part, :class:`MarkdownMath`). key.json is
written entry by entry. The files are the same, byte for byte, as
:func:`chainrule.render.writer.set_files` makes in memory, and reach the folder only through
the one writer (:class:`~chainrule.io.outputs.Output`), all together or not at all.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from chainrule.io.outputs import Output
from chainrule.problems.base import make_problems
from chainrule.problems.spec import LETTERS, SetSpec, finish_problems, set_requests
from chainrule.render.environment import MarkdownMath, render_pieces
from chainrule.render.fill import ProblemContext
from chainrule.render.problemset import problem_context

__all__ = ["CHUNK", "NotStreamable", "stream_set"]

#: Problems drawn (and held) at a time.
CHUNK = 200
_END = object()


class NotStreamable(Exception):
    """A document template that does more than loop once over its problems (not an error:
    the set is then rendered whole)."""


class _Stream(Sequence[Any]):
    """The problems of one document: a known length, handed over chunk by chunk, once."""

    def __init__(self, length: int, feed: queue.Queue[Any]) -> None:
        self._length = length
        self._feed = feed
        self._used = False

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        raise NotStreamable("problems[i]")

    def __iter__(self) -> Iterator[Any]:
        if self._used:
            raise NotStreamable("a second loop over the problems")
        self._used = True
        while True:
            chunk = self._feed.get()
            if chunk is _END:
                return
            yield from chunk


class _Document(threading.Thread):
    """One document rendered from streamed problems into its staged file."""

    def __init__(self, name: str, handle: TextIO, render: Callable[[], Iterator[str]]) -> None:
        super().__init__(name=f"chainrule render {name}", daemon=True)
        self.file_name, self.handle, self.render = name, handle, render
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            if self.file_name.endswith(".md"):  # math rewritten as render() does
                math = MarkdownMath()
                for piece in self.render():
                    self.handle.write(math.feed(piece))
                self.handle.write(math.finish())
            else:
                for piece in self.render():
                    self.handle.write(piece)
        except BaseException as exc:  # handed to the main thread
            self.error = exc


class _Feed:
    """A bounded queue that stops accepting once its reader has failed."""

    def __init__(self, reader: list[_Document]) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.reader = reader

    def put(self, item: Any) -> None:
        while True:
            document = self.reader[0]
            if document.error is not None or not document.is_alive():
                return
            try:
                self.queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue


def _key_json_parts(spec: SetSpec) -> tuple[str, str]:
    """key.json's text before and after its list of problems (as ``json.dumps`` indents)."""
    marker = "\x00problems\x00"
    letters = [LETTERS[v] for v in range(spec.versions)] if spec.versions > 1 else []
    whole = json.dumps({"title": spec.title, "seed": spec.seed, "versions": letters,
                        "problems": [marker]}, indent=2, ensure_ascii=False) + "\n"
    line = "    " + json.dumps(marker) + "\n"
    head, tail = whole.split(line)
    return head, "\n" + tail


def _key_entry(entry: Mapping[str, Any]) -> str:
    text = json.dumps(entry, indent=2, ensure_ascii=False)
    return "\n".join("    " + line for line in text.split("\n"))


def stream_set(
    spec: SetSpec,
    folder: Path,
    *,
    force: bool = False,
    templates_dir: str | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
) -> list[str]:
    """Draw and write the set's folder as :func:`~chainrule.render.writer.write_set` does,
    holding at most a few chunks of problems at a time; returns the names written.

    A document template (a user's) that does more with ``problems`` than loop over them
    once (``problems[0]``, two loops) gets them all: the set is then drawn and written
    whole, the same files."""
    try:
        return _stream_set(spec, folder, force=force, templates_dir=templates_dir,
                           progress=progress, chunk=chunk)
    except NotStreamable:
        from chainrule.problems.spec import build_set
        from chainrule.render.writer import set_files

        files = set_files(spec, build_set(spec), templates_dir)
        with Output(folder, force=force) as out:
            for name, text in files.items():
                out.write(name, text)
            return out.commit()


def _stream_set(
    spec: SetSpec,
    folder: Path,
    *,
    force: bool,
    templates_dir: str | None,
    progress: Callable[[int], None] | None,
    chunk: int,
) -> list[str]:
    requests, marks = set_requests(spec)
    versions = [LETTERS[v] if spec.versions > 1 else None for v in range(spec.versions)]
    per_version = len(requests) // spec.versions
    instructions = spec.meta.get("instructions", "")
    meta = {key: spec.meta.get(key, "") for key in ("course", "instructor", "date")}
    with Output(folder, force=force) as out:
        feeds: dict[str | None, list[_Feed]] = {v: [] for v in versions}
        documents: list[_Document] = []
        handles: list[TextIO] = []

        def start(name: str, render: Callable[[], Iterator[str]], feed_into: list[
                list[_Feed]]) -> None:
            handle = out.open(name)
            handles.append(handle)
            document = _Document(name, handle, render)
            documents.append(document)
            for target in feed_into:
                target[-1].reader.append(document)

        try:
            for version in versions:
                suffix = f"-{version}" if version else ""
                for kind in ("questions", "solutions"):
                    for fmt in ("md", "tex"):
                        feed = _Feed([])
                        feeds[version].append(feed)
                        stream = _Stream(per_version, feed.queue)
                        data = {"title": spec.title, "version": version,
                                "instructions": instructions, "meta": dict(meta),
                                "problems": stream}
                        template = f"{fmt}/{kind}.{fmt}.j2"
                        start(f"{kind}{suffix}.{fmt}",
                              lambda t=template, d=data: render_pieces(  # type: ignore[misc]
                                  t, d, templates_dir, fill=True),
                              [feeds[version]])
            key_streams = []
            key_feeds = []
            for version in versions:
                feed = _Feed([])
                key_feeds.append(feed)
                feeds[version].append(feed)
                key_streams.append({"letter": version,
                                    "problems": _Stream(per_version, feed.queue)})
            key = {"title": spec.title, "meta": meta, "versions": key_streams}
            handle = out.open("key.tex")
            handles.append(handle)
            key_document = _Document("key.tex", handle,
                                     lambda: render_pieces("tex/key.tex.j2", key, templates_dir,
                                                           fill=True))
            documents.append(key_document)
            for feed in key_feeds:
                feed.reader.append(key_document)
            for document in documents:
                document.start()

            key_json = out.open("key.json")
            handles.append(key_json)
            head, tail = _key_json_parts(spec)
            key_json.write(head)
            done = 0
            produced = dict.fromkeys(versions, 0)
            for start_at in range(0, len(requests), chunk):
                part = requests[start_at:start_at + chunk]
                problems = make_problems(part, _shifted(progress, done))
                finish_problems(spec, problems, marks[start_at:start_at + chunk])
                by_version: dict[str | None, list[dict[str, Any]]] = {}
                for problem in problems:
                    by_version.setdefault(problem.version, []).append(
                        ProblemContext(problem_context(problem)))
                    key_json.write((",\n" if done else "") + _key_entry(problem.key()))
                    done += 1
                for version, contexts in by_version.items():
                    for feed in feeds[version]:
                        feed.put(contexts)
                    produced[version] += len(contexts)
                    if produced[version] == per_version:  # its readers may look past the end
                        for feed in feeds[version]:
                            feed.put(_END)
                _raise_first(documents)
            key_json.write(tail)
            for document in documents:
                document.join()
            _raise_first(documents)
        finally:
            for version_feeds in feeds.values():  # every reader gets to the end and stops
                for feed in version_feeds:
                    _close(feed.queue)
            for document in documents:
                if document.ident is not None:
                    document.join()
            for handle in handles:
                handle.close()
        return out.commit()


def _shifted(progress: Callable[[int], None] | None,
             offset: int) -> Callable[[int], None] | None:
    """``progress`` of a chunk's count, as a count of the whole set."""
    if progress is None:
        return None
    report = progress
    return lambda n: report(offset + n)


def _close(feed: queue.Queue[Any]) -> None:
    """Leave the end marker last in ``feed``, dropping what its reader has not taken."""
    while True:
        try:
            feed.put_nowait(_END)
            return
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                feed.get_nowait()


def _raise_first(documents: list[_Document]) -> None:
    for document in documents:
        if document.error is not None:
            raise document.error
