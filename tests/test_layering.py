"""Dependencies point one way (STYLE.md): server → items, guides, wechat; guides → items; domain stays pure;
storage stays behind each package's services (docs/architecture.md)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INFRASTRUCTURE = {"tornado", "peewee", "playhouse", "redis", "fakeredis", "wechatpy", "psycopg2"}
# The one module per package allowed to touch storage (and the libraries a module exists to wrap).
STORAGE = {"items/records.py", "guides/search_index.py", "wechat/records.py"}
# ... and the storage packages, split by concept: every module in them.
STORAGE_PACKAGES = ("items/store/", "wechat/store/")
WRAPPERS = {"wechat/gateway.py": {"wechatpy", "redis"}, "wechat/callback.py": {"wechatpy"}}
PACKAGES = ("items", "guides", "wechat")
# server/db.py and the versioned migrations build the schema from every package's records; nothing else
# in server touches storage.
SERVER_STORAGE = {"server/db.py"}
SERVER_SCHEMA_PACKAGE = "server/migrations/"
FORBIDDEN_PACKAGES = {"items": {"server", "guides", "wechat"}, "guides": {"server", "wechat"}, "wechat": {"server"}}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports by absolute name, `from a import b` counted as both a and a.b."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def storage_imports(path: Path) -> set[str]:
    """The storage modules (a package's `store` or `records`) a file imports, by package.module."""
    found = set()
    for name in imported_modules(path):
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] in PACKAGES and parts[1] in ("store", "records"):
            found.add(".".join(parts[:2]))
    return found


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def domain_modules():
    for package in ("items", "guides", "wechat"):
        for path in sorted((REPO / package).glob("*.py")):
            yield path.relative_to(REPO).as_posix(), path
    for package in STORAGE_PACKAGES:  # the storage of items and of the hall, by concept
        for path in sorted((REPO / package).glob("*.py")):
            yield path.relative_to(REPO).as_posix(), path


@pytest.mark.parametrize("name,path", list(domain_modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_domain_module_keeps_its_layer(name, path):
    roots = imported_roots(path)
    package = name.split("/")[0]
    assert not roots & FORBIDDEN_PACKAGES[package], f"{name} imports {roots & FORBIDDEN_PACKAGES[package]}"
    if name in STORAGE or name.startswith(STORAGE_PACKAGES):
        return
    allowed = WRAPPERS.get(name, set())
    assert not (roots & INFRASTRUCTURE) - allowed, f"{name} imports {(roots & INFRASTRUCTURE) - allowed}"


def test_only_patches_module_imports_jsonpatch():
    users = [name for name, path in domain_modules() if imported_roots(path) & {"jsonpatch", "jsonpointer"}]
    users += [p.relative_to(REPO).as_posix() for p in (REPO / "server").rglob("*.py")
              if imported_roots(p) & {"jsonpatch", "jsonpointer"}]
    assert users == ["items/patches.py"]


def test_no_catch_all_modules():
    names = {p.name for pkg in ("server", "items", "guides", "wechat", "scripts") for p in (REPO / pkg).rglob("*.py")}
    assert not names & {"utils.py", "helpers.py", "common.py"}


def server_modules():
    for path in sorted((REPO / "server").rglob("*.py")):
        yield path.relative_to(REPO).as_posix(), path


@pytest.mark.parametrize("name,path", list(server_modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_server_module_reaches_storage_only_through_services(name, path):
    if name in SERVER_STORAGE or name.startswith(SERVER_SCHEMA_PACKAGE):
        return
    assert not storage_imports(path), f"{name} imports {storage_imports(path)}: call a service instead"
    assert not imported_roots(path) & {"peewee", "playhouse"}, f"{name} imports the database library"


@pytest.mark.parametrize("name,path", list(domain_modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_another_packages_storage_is_reached_only_from_storage_modules(name, path):
    """Storage modules share the one database (items.records' proxy and base record, items.store's
    transaction); every other module reads another package through that package's services."""
    package = name.split("/")[0]
    foreign = {m for m in storage_imports(path) if not m.startswith(package + ".")}
    if name in STORAGE or name.startswith(STORAGE_PACKAGES):
        return
    assert not foreign, f"{name} imports {foreign}: call that package's service instead"


def test_no_package_imports_the_scripts():
    users = [name for name, path in [*domain_modules(), *server_modules()]
             if "scripts" in imported_roots(path) and name != "server/commands/demo.py"]
    assert users == []


def test_every_package_of_the_project_is_shipped():
    """pyproject.toml lists the packages a wheel holds: a new subpackage left out of it works in a checkout
    (an editable install) and is missing from the installed service."""
    import tomllib
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    roots = ("server", "items", "guides", "wechat", "scripts")
    found = {init.parent.relative_to(REPO).as_posix().replace("/", ".")
             for root in roots for init in (REPO / root).rglob("__init__.py")}
    assert listed == found - {"scripts.bench", "scripts.load"}  # benchmarks and the load harness run from a checkout
