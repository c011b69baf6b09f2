"""`hallq demo --network` without PostgreSQL says so and exits non-zero, before starting anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.ports import free_port


def test_the_network_demo_without_postgresql_says_so_and_exits_2(tmp_path: Path) -> None:
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}"  # nothing listens there
    env = {**os.environ, "HALLQ_DEMO_PG": nobody}
    done = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "demo", "--network", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"PostgreSQL at {nobody} is not reachable" in done.stderr
    assert "hub starting" not in done.stdout, "nothing is started without the hub's database"
