"""The web app: its routes, in one place, and how it is built from its settings.

``chainrule serve`` runs it under uvicorn; with ``--workers N`` each worker builds the app
from the settings the command put in the environment (:func:`app_from_environment`). The app
holds no state of its own: problems are regenerated from their IDs, attempts live in the
database.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from chainrule.serve import views
from chainrule.serve.library import ProblemSet, load_set
from chainrule.serve.security import Guard
from chainrule.serve.store import Store, open_store

__all__ = ["ENV_SETTINGS", "Site", "app_from_environment", "create_app", "routes"]

ENV_SETTINGS = "CHAINRULE_SERVE_SETTINGS"
MAX_BODY = 64 * 1024


@dataclass
class Site:
    """What every view needs: the database, the offered sets and the teacher token."""

    store: Store
    sets: tuple[ProblemSet, ...]
    token: str
    templates_dir: str | None = None


def routes() -> list[Route]:
    """Every URL of the app: a pattern and a view each."""
    return [
        Route("/", views.index),
        Route("/name", views.set_name, methods=["POST"]),
        Route("/open", views.open_problem),
        Route("/new/{family}", views.new_variant),
        Route("/p/{code}", views.problem_page, methods=["GET"]),
        Route("/p/{code}", views.problem_post, methods=["POST"]),
        Route("/api/problem/{code}", views.api_problem),
        Route("/api/check", views.api_check, methods=["POST"]),
        Route("/api/parse", views.api_parse, methods=["POST"]),
        Route("/api/reveal", views.api_reveal, methods=["POST"]),
        Route("/teacher", views.teacher),
        Route("/teacher/login", views.teacher_login, methods=["POST"]),
        Route("/teacher/attempts.csv", views.teacher_csv),
        Route("/static/{name}", views.static),
    ]


def create_app(db: str, sets: Sequence[str] = (), token: str | None = None,
               templates_dir: str | None = None, max_body: int = MAX_BODY) -> Starlette:
    """The app over database ``db`` (a SQLite path or a PostgreSQL URL), offering ``sets``."""
    store = open_store(db)
    site = Site(store, tuple(load_set(s) for s in sets), token or store.teacher_token(),
                templates_dir)
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        store.close()

    app = Starlette(routes=routes(), middleware=[Middleware(Guard, max_body=max_body)],
                    lifespan=lifespan)
    app.state.site = site
    return app


def settings_env(db: str, sets: Sequence[str], token: str,
                 templates_dir: str | None = None) -> str:
    return json.dumps({"db": db, "sets": list(sets), "token": token,
                       "templates_dir": templates_dir})


def app_from_environment() -> Starlette:
    """The app of a worker process, from the settings ``chainrule serve`` left for it."""
    settings = json.loads(os.environ[ENV_SETTINGS])
    return create_app(settings["db"], settings["sets"], settings["token"],
                      settings.get("templates_dir"))
