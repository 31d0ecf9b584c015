"""`talksearch serve`: the knowledge base as local web pages (Starlette, Jinja2 templates rendered on the server, a
few lines of plain JavaScript) and the CLI's `--json` at /api/. Imported only by the `serve` command: starlette,
jinja2 and uvicorn stay out of every other command.

- `app`: the application, its routes, errors as pages, safety headers; `run` serves it with uvicorn;
- `pages`: the HTML pages; `api`: the JSON routes and the request parameters both read;
- `html`: the Jinja2 environment and its filters (highlighting, links, times); `templates/`, `static/`.
"""

from .app import create_app, run

__all__ = ["create_app", "run"]
