"""Serve a WSGI app with Tornado's WSGIContainer, the app run on a thread pool.

Tornado 6.2 (Debian 12) has no executor argument on WSGIContainer (it came in
6.3), so this does what 6.3 does: run the application and drain its iterable
on an executor, then write the response from the IOLoop. Two processes share
the listening socket, like every other server in the run.

usage: tornado_serve.py HOST:PORT MODULE:APP [PROCESSES] [THREADS]
"""
import asyncio
import importlib
import sys
from concurrent.futures import ThreadPoolExecutor

import tornado
from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.process import fork_processes
from tornado.wsgi import WSGIContainer


class ExecutorWSGIContainer(WSGIContainer):
    def __init__(self, app, executor):
        super().__init__(app)
        self.executor = executor

    def _run(self, environ):
        data = {}

        def start_response(status, headers, exc_info=None):
            data["status"] = status
            data["headers"] = headers
            return chunks.append

        chunks = []
        result = self.wsgi_application(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return data, b"".join(chunks)

    def __call__(self, request):
        asyncio.ensure_future(self._serve(request))

    async def _serve(self, request):
        environ = WSGIContainer.environ(request)
        data, body = await IOLoop.current().run_in_executor(self.executor, self._run, environ)
        code, reason = data["status"].split(" ", 1)
        headers = httputil.HTTPHeaders()
        seen = set()
        for k, v in data["headers"]:
            headers.add(k, v)
            seen.add(k.lower())
        if "content-length" not in seen:
            headers.add("Content-Length", str(len(body)))
        if "server" not in seen:
            headers.add("Server", "TornadoServer/%s" % tornado.version)
        start = httputil.ResponseStartLine("HTTP/1.1", int(code), reason)
        request.connection.write_headers(start, headers, chunk=body)
        request.connection.finish()


def main():
    bind, target = sys.argv[1], sys.argv[2]
    processes = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    host, port = bind.rsplit(":", 1)
    sockets = bind_sockets(int(port), host, backlog=2048)
    fork_processes(processes, max_restarts=0)
    modname, appname = target.split(":", 1)
    app = getattr(importlib.import_module(modname), appname)
    container = ExecutorWSGIContainer(app, ThreadPoolExecutor(threads))

    async def serve():
        server = HTTPServer(container, max_body_size=2 << 30)
        server.add_sockets(sockets)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
