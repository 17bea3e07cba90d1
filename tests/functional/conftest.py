"""Fixtures shared by the functional tests.

Test modules never ``import conftest``: with several conftest.py files and no packages,
which module that name resolves to depends on collection order.  What the root
conftest offers as plain functions is handed out here as fixtures instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


def root_conftest(config: pytest.Config):
    """The module object of tests/conftest.py, as pytest loaded it (never re-imported)."""
    for plugin in config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if file and Path(file).resolve() == ROOT_CONFTEST:
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


@pytest.fixture(scope="session")
def root(request):
    """tests/conftest.py: run(), require_tool(), DB_KIND, PG_ADMIN_URL, BASE_URL, STRICT..."""
    return root_conftest(request.config)


@pytest.fixture(scope="session")
def require_tool(root):
    return root.require_tool


@pytest.fixture(scope="session")
def run(root):
    return root.run


@pytest.fixture
def demo_items(demo_db, client):
    """Every demo entry as the public API lists it, by entry number."""
    items = []
    page = 1
    while True:
        response = client.get("/api/v1/entries", params={"page_size": 100, "page": page})
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        if page >= body["pages"]:
            break
        page += 1
    return {item["entry_no"]: item for item in items}


@pytest.fixture(scope="session")
def csrf(root):
    """``csrf(client)``: the token an /admin form would carry for that client."""
    return root.csrf_token_of
