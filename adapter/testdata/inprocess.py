"""Exercise gowsgi without a server: inprocess.py MODE LIBRARY.

second: a second Go library in the same process is refused.
fork:   a library loaded before fork() is refused in the child.
memory: RSS before and after 100,000 requests.
"""

import gc
import io
import os
import shutil
import sys
import tempfile

import gowsgi


def call(app, path, method='GET', body=b'', close_early=False):
    env = {
        'REQUEST_METHOD': method, 'SCRIPT_NAME': '', 'PATH_INFO': path,
        'QUERY_STRING': '', 'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
        'SERVER_PROTOCOL': 'HTTP/1.1', 'CONTENT_LENGTH': str(len(body)),
        'wsgi.url_scheme': 'http', 'wsgi.input': io.BytesIO(body),
        'wsgi.errors': sys.stderr,
    }
    if '?' in path:
        env['PATH_INFO'], env['QUERY_STRING'] = path.split('?', 1)
    status = []
    result = app(env, lambda s, h, e=None: status.append(s))
    try:
        if close_early:
            next(iter(result))
            return status[0], b''
        return status[0], b''.join(result)
    finally:
        result.close()


def second(path):
    app = gowsgi.load(path)
    assert call(app, '/')[1] == b'Hello, world'
    other = os.path.join(tempfile.mkdtemp(), 'other.so')
    shutil.copy(path, other)
    try:
        call(gowsgi.load(other), '/')
    except gowsgi.Error as e:
        print('refused:', e)
    assert call(app, '/')[1] == b'Hello, world'
    print('first still serves')


def fork(path):
    app = gowsgi.load(path, lazy=False)
    assert call(app, '/')[1] == b'Hello, world'
    pid = os.fork()
    if pid == 0:
        try:
            call(app, '/')
            print('child: served?!', flush=True)
        except gowsgi.Error as e:
            print('child refused:', e, flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
    assert call(app, '/')[1] == b'Hello, world'
    print('parent still serves')


def rss():
    gc.collect()
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])


def memory(path, n=100000):
    app = gowsgi.load(path)
    upload = b'u' * 8192

    def batch(start, stop):
        for i in range(start, stop):
            assert call(app, '/')[1] == b'Hello, world'
            if i % 10 == 0:
                call(app, '/upload', 'POST', upload)
            if i % 100 == 0:
                call(app, '/big?n=100000')
            if i % 1000 == 0:
                call(app, '/forever?id=memory', close_early=True)

    batch(0, n // 5)  # warm up: let both heaps reach their working size
    before = rss()
    batch(n // 5, n)
    after = rss()
    print('rss_kb before=%d after=%d growth=%d'
          % (before, after, after - before))


if __name__ == '__main__':
    modes = {'second': second, 'fork': fork, 'memory': memory}
    modes[sys.argv[1]](sys.argv[2])
