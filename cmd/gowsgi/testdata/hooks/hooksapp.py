"""The app of the hooks tests: answers its worker's pid, and notes each
call in $HOOKS_LOG as the hooks do; /sleep sleeps a minute."""

import json
import os
import time


def app(environ, start_response):
    with open(os.environ.get("HOOKS_LOG", os.devnull), "a") as f:
        f.write(json.dumps({"hook": "app", "pid": os.getpid(),
                            "path": environ["PATH_INFO"]}) + "\n")
    if environ["PATH_INFO"] == "/sleep":
        time.sleep(60)
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-App", "hooks")])
    return [str(os.getpid()).encode()]
