"""A small Flask application served by gowsgi.

From the repository root:

    go run ./cmd/gowsgi serve --python /usr/bin/python3 --chdir examples/flask app:app

The interpreter needs Flask (Debian's python3-flask, or pip install flask).
"""

import flask
from flask import Flask, jsonify, redirect, request, url_for
from markupsafe import escape

app = Flask(__name__)

FORM = """<!doctype html>
<title>gowsgi + Flask</title>
<h1>Hello from Flask</h1>
<form method="post" action="{action}">
  <label>Your name <input name="name"></label>
  <button>Greet me</button>
</form>
<p>See also <a href="{info}">{info}</a>.</p>
"""


@app.get("/")
def index():
    return FORM.format(action=url_for("greet"), info=url_for("info"))


@app.get("/api/info")
def info():
    return jsonify(
        framework="flask",
        flask_version=flask.__version__,
        path=request.path,
        script_root=request.script_root,
        multiprocess=request.environ["wsgi.multiprocess"],
    )


@app.post("/greet")
def greet():
    name = request.form.get("name", "").strip()
    if not name:
        return "name is required\n", 400
    return f"<!doctype html><title>Hello</title><p>Hello, {escape(name)}!</p>\n"


@app.get("/old")
def old():
    """A page that moved: a redirect to the form, under any mount prefix."""
    return redirect(url_for("index"))
