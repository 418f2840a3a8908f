"""An app whose import fails: the container must not start."""

import this_module_does_not_exist  # noqa: F401

application = None
