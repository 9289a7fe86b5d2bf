"""The import errors live in klimainnkjop/core/errors.py (one exceptions module); re-exported for the importers."""
from klimainnkjop.core.errors import (  # noqa: F401
    MAX_QUOTED, MAX_REASON, MAX_WHERE, ImportRejected, RowError, _cut, is_reader_panic, listing, quoted, reason,
)
