"""An app whose import waits for $SYNC_DIR/imported to exist."""

import os
import time

from ops import hold as application  # noqa: F401

_deadline = time.monotonic() + 20
while not os.path.exists(os.path.join(os.environ["SYNC_DIR"], "imported")):
    if time.monotonic() > _deadline:
        raise RuntimeError("never allowed to finish importing")
    time.sleep(0.01)
