"""The ASGI lifespan protocol, run inside the worker on its event loop.

Startup runs before the worker says Ready; shutdown once Go has shut the
channel and the last stream has ended.  As the spec asks, an app that
raises (or returns) before it has completed startup does not support
lifespan: the worker serves without it.
"""

import sys
import traceback
from collections import deque

from .asgistream import ASGI, message_type

SPEC_VERSION = "2.0"

ON = "on"
UNSUPPORTED = "unsupported"
FAILED = "failed"


class Lifespan:
    """One run of the app with a lifespan scope.

    state is the scope's "state" dict, which the app fills at startup and
    each request's scope gets a shallow copy of.
    """

    def __init__(self, app, loop):
        self.app = app
        self.loop = loop
        self.state = {}
        self.inbox = deque()
        self.waiter = None
        self.outcome = None  # ON, UNSUPPORTED or FAILED once startup ended
        self.message = ""  # why it failed
        self.started = loop.create_future()
        self.stopped = loop.create_future()
        self.stopping = False  # lifespan.shutdown was sent

    async def startup(self):
        """Run startup; return ON, UNSUPPORTED or FAILED (see message)."""
        scope = {"type": "lifespan",
                 "asgi": {"version": ASGI, "spec_version": SPEC_VERSION},
                 "state": self.state}
        self.loop.create_task(self._main(scope))
        self._put({"type": "lifespan.startup"})
        await self.started
        return self.outcome

    async def shutdown(self):
        """Run shutdown, if startup completed; wait until the app is done."""
        if self.outcome != ON or self.stopped.done():
            return
        self.stopping = True
        self._put({"type": "lifespan.shutdown"})
        await self.stopped

    async def _main(self, scope):
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as e:
            if not self.started.done():
                self._unsupported("raised %s: %s" % (type(e).__name__, e))
            elif self.outcome == ON:
                print("ERROR:gowsgi:the ASGI lifespan task raised:\n"
                      + traceback.format_exc(), file=sys.stderr, end="")
                sys.stderr.flush()
        else:
            if not self.started.done():
                self._unsupported("returned")
        finally:
            self._end(self.stopped)

    def _unsupported(self, how):
        # One line, at INFO: the app merely does not speak lifespan.
        print("lifespan unsupported: the app %s before "
              "lifespan.startup.complete; serving without lifespan"
              % " ".join(how.split()), file=sys.stderr)
        sys.stderr.flush()
        self._started(UNSUPPORTED)

    def _started(self, outcome):
        if not self.started.done():
            self.outcome = outcome
            self.started.set_result(None)

    @staticmethod
    def _end(future):
        if not future.done():
            future.set_result(None)

    def _put(self, message):
        self.inbox.append(message)
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def _receive(self):
        while not self.inbox:
            self.waiter = self.loop.create_future()
            await self.waiter
        return self.inbox.popleft()

    async def _send(self, message):
        kind = message_type(message)
        if kind == "lifespan.startup.complete" and not self.started.done():
            self._started(ON)
        elif kind == "lifespan.startup.failed" and not self.started.done():
            self.message = str(message.get("message") or "")
            self._started(FAILED)
        elif kind == "lifespan.shutdown.complete" and self._stopping():
            self._end(self.stopped)
        elif kind == "lifespan.shutdown.failed" and self._stopping():
            print("ERROR:gowsgi:ASGI lifespan shutdown failed: %s"
                  % (message.get("message") or ""), file=sys.stderr)
            sys.stderr.flush()
            self._end(self.stopped)
        else:
            raise RuntimeError("Unexpected ASGI lifespan message '%s' in "
                               "this state" % kind)

    def _stopping(self):
        return self.stopping and not self.stopped.done()
