"""One atomic file writer: readers see the old file or the new one, never a partial one.

The data go to a uniquely named temporary file in the target's directory, which is then
``os.replace``-d over the target (atomic on POSIX and Windows within one file system);
concurrent writers of the same content (e.g. two processes compiling the same code)
each replace it whole.  On any error the temporary file is removed and the old file
survives.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path, data: bytes | str, *, fsync: bool = True, mode: int = 0o644) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, creating its directory.

    ``fsync``: flush the data to disk before the rename (durable across a power loss;
    off for files that can be regenerated).  ``mode``: permission bits of the new file
    (``mkstemp`` makes 0600; data files are meant to be shared).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
