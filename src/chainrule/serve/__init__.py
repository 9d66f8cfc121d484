"""``chainrule serve``: the practice and self-check web page, an ASGI app (Starlette)."""

from chainrule.serve.app import create_app, routes

__all__ = ["create_app", "routes"]
