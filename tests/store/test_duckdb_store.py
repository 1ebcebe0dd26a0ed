"""DuckDB-only behaviour: one writing process per data directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sightline.store import open_store


def test_second_process_on_one_data_directory_fails_clearly(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        code = (
            "import sys\n"
            "from sightline.errors import StoreError\n"
            "from sightline.store import open_store\n"
            "try:\n"
            f"    open_store({str(tmp_path)!r})\n"
            "except StoreError as exc:\n"
            "    print(exc); sys.exit(3)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        store.close()
    assert done.returncode == 3, done.stderr
    assert "in use by another collector" in done.stdout
    assert "postgresql://" in done.stdout
    reopened = open_store(tmp_path)  # the lock is gone once the first store closed
    assert reopened.schema_version() >= 1
    reopened.close()
