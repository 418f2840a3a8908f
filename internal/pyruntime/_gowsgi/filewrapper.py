"""wsgi.file_wrapper (PEP 3333, optional platform-specific file handling)."""


class FileWrapper:
    """Iterate a file-like object in blocks; the handler recognises this
    type and lets Go send a real file with sendfile(2) instead."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration
