"""Find the application named by a 'module:callable' spec (gunicorn's form).

The callable part may be a dotted attribute path, or a call of a factory
with literal arguments: 'pkg.app:create_app()', "app:make('prod', x=1)".
"""

import ast
import importlib


class SpecError(Exception):
    """The spec is malformed or names nothing callable."""


def load(spec, interface="wsgi"):
    module_name, _, expr = spec.partition(":")
    if not module_name:
        raise SpecError("app spec %r has no module name" % spec)
    module = importlib.import_module(module_name)
    app = evaluate(module, expr or "application", spec)
    if not callable(app):
        raise SpecError("%r is a %s, not a%s %s callable" % (
            spec, type(app).__name__, "n" if interface == "asgi" else "",
            interface.upper()))
    return app


def evaluate(module, expr, spec):
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise SpecError(
            "cannot parse %r in app spec %r" % (expr, spec)) from None
    if isinstance(node, ast.Call):
        func = lookup(module, node.func, spec)
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        except ValueError:
            raise SpecError(
                "factory arguments in %r must be literals" % spec) from None
        return func(*args, **kwargs)
    return lookup(module, node, spec)


def lookup(module, node, spec):
    names = []
    while isinstance(node, ast.Attribute):
        names.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise SpecError("app spec %r must name an attribute or a call" % spec)
    names.insert(0, node.id)
    obj = module
    for name in names:
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise SpecError("module %r has no attribute %r (app spec %r)" % (
                module.__name__, ".".join(names), spec)) from None
    return obj
