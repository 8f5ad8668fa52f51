"""The ``{{ … }}`` expressions of Kerchunk references version 1 (``templates`` and ``gen``),
evaluated without Jinja and without ``eval``: names, numbers and strings, ``+ - * // % /``,
parentheses, and calls of templates that themselves hold ``{{ … }}`` with keyword arguments
(``{{f(c='text')}}``; as in fsspec, such a template sees only its arguments). That covers
what kerchunk writes and the examples of the reference spec; anything else is refused naming
the expression. Like fsspec, a reference URL is rendered only when the document has templates."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping

from ..errors import MetadataError

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
#: longest text one expression may produce (a "x" * 10**9 would exhaust memory)
MAX_TEXT = 1 << 16

_OPERATORS: dict[type, Callable] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a / b,
    ast.Mod: lambda a, b: a % b,
}


def render(text: str, names: Mapping[str, object], where: str) -> str:
    """TEXT with every ``{{expression}}`` replaced by its value (WHERE names the reference)."""
    if "{{" not in text:
        return text
    return _EXPRESSION.sub(lambda m: _text(_evaluate(m.group(1), names, where)), text)


def evaluate_int(text: str, names: Mapping[str, object], where: str) -> int:
    """An offset or length of a generator: a rendered template that must be an integer."""
    rendered = render(str(text), names, where)
    try:
        return int(rendered)
    except ValueError:
        raise MetadataError(f"{where}: {text!r} gives {rendered!r}, not an integer") from None


def template_function(template: str, where: str) -> Callable[..., str]:
    """A template holding ``{{ … }}``: called with keyword arguments, its only names."""
    def call(**kwargs) -> str:
        return render(template, kwargs, where)
    return call


def _text(value) -> str:
    text = str(value)
    if len(text) > MAX_TEXT:
        raise MetadataError(f"template value of {len(text)} characters, more than {MAX_TEXT}")
    return text


def _evaluate(expression: str, names: Mapping[str, object], where: str):
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise MetadataError(f"{where}: cannot read template expression {{{{{expression}}}}}") from None
    try:
        return _node(tree.body, names)
    except _TemplateFailed as e:
        raise MetadataError(str(e)) from None
    except MetadataError as e:
        raise MetadataError(f"{where}: template expression {{{{{expression}}}}}: {e}") from None
    except (ArithmeticError, TypeError, ValueError) as e:
        raise MetadataError(f"{where}: template expression {{{{{expression}}}}} fails: {e}") from None


class _TemplateFailed(MetadataError):
    """A called template failed; its message already says where."""


def _node(node: ast.AST, names: Mapping[str, object]):
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise MetadataError(f"unknown name {node.id!r}")
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _node(node.operand, names)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _node(node.left, names), _node(node.right, names)
        if isinstance(node.op, ast.Mult) and (isinstance(left, str) or isinstance(right, str)):
            raise MetadataError("repeating text is not supported")
        value = _OPERATORS[type(node.op)](left, right)
        return _text(value) if isinstance(value, str) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        function = names.get(node.func.id)
        if not callable(function):
            raise MetadataError(f"{node.func.id!r} is not a template with parameters")
        kwargs = {k.arg: _node(k.value, names) for k in node.keywords if k.arg}
        try:
            return function(**kwargs)
        except MetadataError as e:
            raise _TemplateFailed(str(e)) from None
    raise MetadataError(f"unsupported syntax ({type(node).__name__})")
