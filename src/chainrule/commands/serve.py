"""``chainrule serve``: the practice and self-check web page (uvicorn over the ASGI app)."""

from __future__ import annotations

import os

import click

from chainrule.commands.common import reports_errors

__all__ = ["serve"]

TOKEN_ENV = "CHAINRULE_TEACHER_TOKEN"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 to let other machines in).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", default="class.sqlite", show_default=True, metavar="PATH|URL",
              help="Where attempts are kept: a SQLite file, or a postgresql:// URL.")
@click.option("--set", "sets", multiple=True, type=click.Path(exists=True), metavar="DIR",
              help="A problem set folder (from generate) to offer; may be repeated.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes sharing the database.")
@click.option("--token", default=None, envvar=TOKEN_ENV, show_envvar=True,
              help="The teacher token (default: created once and kept in the database).")
@click.option("--templates", "templates_dir", default=None,
              type=click.Path(exists=True, file_okay=False), help="Override templates.")
@reports_errors
def serve(host: str, port: int, db: str, sets: tuple[str, ...], workers: int,
          token: str | None, templates_dir: str | None) -> None:
    """Serve practice problems to students, checked step by step, and a teacher page.

    Students pick a kind of problem (or one of the sets given with --set), work it by hand
    and check each step; the teacher page (behind the printed token) shows how the class is
    doing and exports the attempts as CSV. Nothing is fetched from the internet.

    \b
    Examples:
      chainrule serve
      chainrule serve --set output/exam --db class.sqlite
      chainrule serve --db postgresql://teacher@localhost/course --workers 4
    """
    import uvicorn

    from chainrule.serve.app import ENV_SETTINGS, settings_env
    from chainrule.serve.library import load_set
    from chainrule.serve.store import open_store

    for folder in sets:
        load_set(folder)  # a bad set is an error now, not in every worker
    store = open_store(db)
    token = token or store.teacher_token()
    store.close()
    os.environ[ENV_SETTINGS] = settings_env(db, sets, token, templates_dir)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    click.echo(f"chainrule serve: http://{shown}:{port}/  (database {_safe(db)})")
    click.echo(f"teacher page: http://{shown}:{port}/teacher  token: {token}")
    uvicorn.run("chainrule.serve.app:app_from_environment", factory=True, host=host,
                port=port, workers=workers, log_level="warning", server_header=False,
                proxy_headers=False)


def _safe(db: str) -> str:
    """The database without a password in its URL."""
    if "://" in db and "@" in db:
        scheme, rest = db.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return db
