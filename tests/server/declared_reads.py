"""What each API handler method reads, found in its source: the query parameters and headers it asks the base
handler for, through its own helpers and module functions, so a test can hold them to the declarations."""
from __future__ import annotations

import ast
import inspect
import sys
import textwrap

from server.base import BaseHandler

# The base handler's readers: method name → where the parameter named by its first argument lives.
READERS = {"arg": "query", "int_arg": "query", "get_query_argument": "query", "header": "header"}
BODY = ("body", "")  # the request body, read through a reader or from the request itself
# Readers that take no name: the parameters they read.
FIXED_READERS = {"page_args": (("query", "page"), ("query", "size")),
                 "json_body": (BODY,), "json_object": (BODY,)}


class Unresolved(Exception):
    """A read whose parameter name is not a literal the scan can follow."""


def _functions(cls) -> dict[str, ast.FunctionDef]:
    """The methods of `cls` and of its bases up to the base handler, nearest first, as syntax trees."""
    found: dict[str, ast.FunctionDef] = {}
    for klass in cls.__mro__:
        if klass is BaseHandler or not issubclass(klass, BaseHandler):
            break
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        for node in tree.body[0].body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(node.name, node)
    return found


def _module_functions(cls) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(inspect.getsource(sys.modules[cls.__module__]))
    return {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _strings(node) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]
    return None


class _Scan:
    def __init__(self, cls):
        self.methods = _functions(cls)
        self.module = _module_functions(cls)

    def reads(self, fn: ast.FunctionDef, receiver: str = "self", bound: dict | None = None,
              seen: frozenset = frozenset()) -> set[tuple[str, str]]:
        """(where, name) of every parameter `fn` reads; `bound` maps its parameters to the literal names
        a caller passed. Raises Unresolved for a read it cannot name."""
        bound = dict(bound or {})
        aliases: dict[str, str] = {}
        for node in ast.walk(fn):  # local names: tuples of strings and aliases of readers
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                target, value = node.targets[0].id, node.value
                if _strings(value) is not None:
                    bound[target] = _strings(value)
                elif (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)
                      and value.value.id == receiver):
                    aliases[target] = value.attr
            elif isinstance(node, (ast.comprehension, ast.For)) and isinstance(node.target, ast.Name):
                names = _strings(node.iter) or (bound.get(node.iter.id) if isinstance(node.iter, ast.Name) else None)
                if names is not None:
                    bound[node.target.id] = names
        out: set[tuple[str, str]] = _header_reads(fn, receiver)
        for node in ast.walk(fn):
            if _is_request(node, receiver):
                out |= self._raw(node)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == receiver:
                out |= self._call(func.attr, node.args, bound, seen)
            elif isinstance(func, ast.Name) and func.id in aliases:
                out |= self._call(aliases[func.id], node.args, bound, seen)
            elif (isinstance(func, ast.Name) and func.id in self.module and node.args
                  and isinstance(node.args[0], ast.Name) and node.args[0].id == receiver):
                helper = self.module[func.id]
                out |= self._helper(helper, helper.args.args[0].arg, node.args[1:], helper.args.args[1:], bound, seen)
        return out

    def _raw(self, node: ast.Attribute) -> set[tuple[str, str]]:
        """`self.request.<attr>` used directly: the body, or a header taken past the declarations."""
        if node.attr in ("body", "files", "body_arguments"):
            return {BODY}
        if node.attr in ("arguments", "query_arguments", "query"):
            raise Unresolved(f"request.{node.attr}")
        return set()

    def _names(self, arg, bound) -> list[str]:
        names = _strings(arg) or (bound.get(arg.id) if isinstance(arg, ast.Name) else None)
        if names is None:
            raise Unresolved(ast.unparse(arg))
        return names

    def _call(self, name: str, args, bound, seen) -> set[tuple[str, str]]:
        if name in READERS:
            if not args:
                raise Unresolved(name + "()")
            return {(READERS[name], n) for n in self._names(args[0], bound)}
        if name in FIXED_READERS:
            return set(FIXED_READERS[name])
        helper = self.methods.get(name)
        if helper is None or ("self", name) in seen:
            return set()
        return self._helper(helper, "self", args, helper.args.args[1:], bound, seen | {("self", name)})

    def _helper(self, helper, receiver, args, params, bound, seen) -> set[tuple[str, str]]:
        passed = {}
        for param, arg in zip(params, args):
            names = _strings(arg) or (bound.get(arg.id) if isinstance(arg, ast.Name) else None)
            if names is not None:
                passed[param.arg] = names
        return self.reads(helper, receiver, passed, seen)


def _is_request(node, receiver: str) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "request"
            and isinstance(node.value.value, ast.Name) and node.value.value.id == receiver)


def _header_reads(fn: ast.FunctionDef, receiver: str) -> set[tuple[str, str]]:
    """Headers read straight from `self.request.headers` (Content-Type belongs to the body's declaration)."""
    out = set()
    for node in ast.walk(fn):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and _is_request(node.func.value, receiver) and node.func.value.attr == "headers"):
            names = _strings(node.args[0]) if node.args else None
            if names is None:
                raise Unresolved(ast.unparse(node))
            out |= {("header", n) for n in names if n.lower() != "content-type"}
    return out


def reads_of(cls, method: str) -> set[tuple[str, str]]:
    """(where, name) of every query parameter and header `cls.method` reads, and BODY when it reads the
    body. Raises Unresolved."""
    scan = _Scan(cls)
    return scan.reads(scan.methods[method])
