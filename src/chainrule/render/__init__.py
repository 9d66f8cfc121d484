"""Rendering: Jinja environments and the templates that turn traces into documents."""
