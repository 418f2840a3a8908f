"""A Flask application for wsgi/frameworks_test.go.

It runs on Debian's python3-flask under /usr/bin/python3 and touches what a
real Flask site leans on: forms, uploads, cookies, the signed session,
url_for under a mount prefix, non-ASCII paths, streaming, errors and
send_file.  Views answer JSON where the test wants to look inside.
"""

import hashlib
import os

from flask import (Flask, Response, jsonify, redirect, request, send_file,
                   session, stream_with_context, url_for)

app = Flask(__name__)
# Public on purpose: the session cookie of a test app protects nothing.
app.secret_key = "gowsgi-frameworks-test"

# The Container's SpoolDir, which the test sets: the upload view lists it
# to show that a big body reached Werkzeug from a spooled file.
SPOOL_DIR = os.environ.get("FLASKAPP_SPOOL_DIR", "")


@app.get("/api/info")
def info():
    env = request.environ
    return jsonify(
        path=request.path,
        script_root=request.script_root,
        url=request.url,
        url_for_self=url_for("info"),
        multithread=env["wsgi.multithread"],
        multiprocess=env["wsgi.multiprocess"],
    )


@app.post("/form")
def form():
    """Every field of an urlencoded form, each with all its values."""
    return jsonify(
        content_type=request.mimetype,
        fields=request.form.to_dict(flat=False),
    )


@app.post("/upload")
def upload():
    """What arrived in a multipart/form-data upload."""
    files = {}
    for name, storage in request.files.items():
        data = storage.read()
        files[name] = {
            "filename": storage.filename,
            "content_type": storage.mimetype,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    spooled = []
    if SPOOL_DIR:
        spooled = [n for n in os.listdir(SPOOL_DIR)
                   if n.startswith("gowsgi-body-")]
    return jsonify(
        fields=request.form.to_dict(),
        files=files,
        content_length=request.content_length,
        input_terminated=request.environ.get("wsgi.input_terminated"),
        spooled=len(spooled),
    )


@app.get("/cookies/set")
def set_cookies():
    resp = jsonify(ok=True)
    resp.set_cookie("flavour", request.args.get("flavour", "plain"),
                    httponly=True, samesite="Lax")
    resp.set_cookie("visits", "1", max_age=3600)
    return resp


@app.get("/cookies")
def read_cookies():
    return jsonify(request.cookies.to_dict())


@app.post("/session/count")
def count():
    """A counter kept in Flask's signed session cookie."""
    session["n"] = session.get("n", 0) + 1
    return jsonify(n=session["n"])


@app.post("/login")
def login():
    """Post/redirect/get: remember who logged in, then send them on."""
    session["user"] = request.form["user"]
    return redirect(url_for("whoami"))


@app.get("/whoami")
def whoami():
    return jsonify(user=session.get("user"), path=request.path)


@app.get("/old")
def old():
    return redirect(url_for("info"))


@app.get("/café")
def cafe():
    return jsonify(
        path=request.path,
        url_for_self=url_for("cafe"),
        raw_uri=request.environ.get("RAW_URI"),
    )


@app.get("/files/<path:name>")
def files(name):
    return jsonify(
        name=name,
        raw_uri=request.environ.get("RAW_URI"),
    )


@app.get("/headers")
def headers():
    """Echo request headers, and send one back."""
    h = request.headers
    resp = jsonify(
        user_agent=h.get("User-Agent"),
        accept_language=h.get("Accept-Language"),
        custom=h.get("X-Custom"),
        multi=h.get("X-Multi"),
        underscored=h.get("X-Under_Score"),
        host=h.get("Host"),
    )
    resp.headers["X-Echo"] = h.get("X-Custom", "")
    return resp


@app.get("/stream")
def stream():
    """Three chunks; before each of the later ones the generator waits for a
    line on the fifo the test names, so the test proves each chunk arrived
    alone: the next is not even made until the test has read this one."""
    fifo = request.args["fifo"]

    def generate():
        for i in range(3):
            if i:
                with open(fifo) as f:
                    f.read()
            # The request is still there: that is what stream_with_context
            # is for.
            yield "chunk %d of %s\n" % (i, request.args["fifo"][-4:])

    return Response(stream_with_context(generate()), mimetype="text/plain")


@app.get("/boom")
def boom():
    return str(1 / 0)


@app.get("/download")
def download():
    return send_file(request.args["path"], mimetype="application/octet-stream",
                     as_attachment=True, download_name="data.bin")
