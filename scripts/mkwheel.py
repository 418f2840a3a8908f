"""Write a gowsgi wheel: mkwheel.py --binary B --plat TAGS --version V --out D.

scripts/wheel runs it, with /usr/bin/python3, once per platform, after it
cross-compiled the static gowsgi binary B.  A wheel (PEP 427) is a zip
file; this writes it with zipfile alone, as no setuptools, pip or network
is needed to build one:

    gowsgi/__init__.py, adapter.py, __main__.py   from adapter/python/gowsgi
    gowsgi/bin/gowsgi                              B, mode 0755
    gowsgi-V.dist-info/METADATA                    Metadata-Version 2.1
    gowsgi-V.dist-info/WHEEL                       py3-none-TAGS
    gowsgi-V.dist-info/entry_points.txt            the gowsgi script
    gowsgi-V.dist-info/RECORD                      sha256 and size of each

The binary sits in the package rather than in the wheel's scripts so that
the gowsgi script pip writes is a Python launcher (gowsgi/__main__.py):
it knows its interpreter, which becomes the binary's default --python.
Entries are sorted and dated SOURCE_DATE_EPOCH (else the current time), so
the same inputs and epoch give the same bytes.
"""

import argparse
import base64
import hashlib
import os
import re
import sys
import time
import zipfile

NAME = 'gowsgi'
URL = 'https://github.com/gowsgi/gowsgi'
SUMMARY = ('A WSGI server in Go (gunicorn\'s flags, a supervised pool of '
           'Python workers), and Go http.Handlers served as WSGI apps')
# The worker runtime and the adapter's loader run on CPython and PyPy 3.8+.
REQUIRES_PYTHON = '>=3.8'
CLASSIFIERS = [
    'Environment :: Web Environment',
    'Intended Audience :: Developers',
    'Operating System :: MacOS',
    'Operating System :: POSIX :: Linux',
    'Programming Language :: Go',
    'Programming Language :: Python :: 3',
    'Programming Language :: Python :: Implementation :: CPython',
    'Programming Language :: Python :: Implementation :: PyPy',
    'Topic :: Internet :: WWW/HTTP :: WSGI',
    'Topic :: Internet :: WWW/HTTP :: WSGI :: Server',
]
# Links in the README relative to the repository, made absolute for the
# package index, which shows the README without the files beside it.
_RELATIVE_LINK = re.compile(r'\]\((?![a-z][a-z0-9+.-]*:|#|/)([^)\s]+)\)')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--binary', required=True, help='the gowsgi binary')
    p.add_argument('--plat', required=True,
                   help='platform tags, dot-separated (PEP 425)')
    p.add_argument('--version', required=True, help='PEP 440 version')
    p.add_argument('--out', required=True, help='directory of the wheel')
    p.add_argument('--root', default='.', help='the repository')
    p.add_argument('--ref', default='main',
                   help='git ref that README links point into')
    args = p.parse_args(argv)
    print(write_wheel(args.root, args.binary, args.plat, args.version,
                      args.out, args.ref))


def write_wheel(root, binary, plat, version, out, ref):
    """Write the wheel into out and return its path."""
    check_version(version)
    dist_info = '%s-%s.dist-info' % (NAME, version)
    files = []  # (archive name, bytes, executable)
    pkg = os.path.join(root, 'adapter', 'python', NAME)
    for name in sorted(os.listdir(pkg)):
        if name.endswith('.py'):
            files.append((NAME + '/' + name, read(os.path.join(pkg, name)),
                          False))
    files.append((NAME + '/bin/gowsgi', read(binary), True))
    licenses = [n for n in sorted(os.listdir(root))
                if n.upper().startswith(('LICENSE', 'LICENCE', 'COPYING'))]
    for name in licenses:
        files.append((dist_info + '/' + name, read(os.path.join(root, name)),
                      False))
    readme = read(os.path.join(root, 'README.md')).decode('utf-8')
    files.append((dist_info + '/METADATA',
                  metadata(version, readme, ref, licenses), False))
    files.append((dist_info + '/WHEEL', wheel_file(plat), False))
    files.append((dist_info + '/entry_points.txt',
                  b'[console_scripts]\ngowsgi = gowsgi.__main__:main\n',
                  False))
    record = ''.join('%s,sha256=%s,%d\n' % (n, digest(data), len(data))
                     for n, data, _ in files)
    record += dist_info + '/RECORD,,\n'
    files.append((dist_info + '/RECORD', record.encode('utf-8'), False))

    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, '%s-%s-py3-none-%s.whl' % (NAME, version, plat))
    stamp = time.gmtime(max(int(os.environ.get('SOURCE_DATE_EPOCH',
                                               time.time())), 315532800))
    tmp = path + '.tmp'
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as z:
        # The dist-info last, RECORD at the very end, as PEP 427 advises.
        for name, data, executable in files:
            info = zipfile.ZipInfo(name, stamp[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            # Unix mode in the high 16 bits: pip sets the executable bit
            # from them.
            mode = 0o755 if executable else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # Unix, so that the mode is read
            z.writestr(info, data)
    os.replace(tmp, path)
    return path


def check_version(version):
    # PEP 440's public versions, as the file name and pip need them.
    if not re.fullmatch(r'\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?',
                        version):
        sys.exit('mkwheel: version %r is not a PEP 440 public version'
                 % version)


def metadata(version, readme, ref, licenses):
    """Return METADATA (core metadata 2.1) with the README as description."""
    readme = _RELATIVE_LINK.sub(
        lambda m: '](%s/blob/%s/%s)' % (URL, ref, m.group(1)), readme)
    lines = [
        'Metadata-Version: 2.1',
        'Name: ' + NAME,
        'Version: ' + version,
        'Summary: ' + SUMMARY,
        'Home-page: ' + URL,
        'Project-URL: Source, ' + URL,
        'Project-URL: Issues, ' + URL + '/issues',
        'Project-URL: Documentation, ' + URL + '#readme',
        'Keywords: wsgi,gunicorn,server,go,http',
    ]
    # The repository names no licence yet; if it gets a LICENSE file, the
    # wheel carries it and says so.
    if licenses:
        lines.append('License: see ' + ', '.join(licenses))
    lines += ['Classifier: ' + c for c in CLASSIFIERS]
    lines += [
        'Requires-Python: ' + REQUIRES_PYTHON,
        'Description-Content-Type: text/markdown; charset=UTF-8; '
        'variant=GFM',
    ]
    return ('\n'.join(lines) + '\n\n' + readme).encode('utf-8')


def wheel_file(plat):
    lines = ['Wheel-Version: 1.0', 'Generator: gowsgi scripts/mkwheel.py',
             'Root-Is-Purelib: false']
    lines += ['Tag: py3-none-' + t for t in plat.split('.')]
    return ('\n'.join(lines) + '\n').encode('utf-8')


def digest(data):
    """Return RECORD's hash: urlsafe base64 of the sha256, unpadded."""
    raw = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode('ascii')


def read(path):
    with open(path, 'rb') as f:
        return f.read()


if __name__ == '__main__':
    main()
