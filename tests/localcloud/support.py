"""Test-side access to the local cloud: puts localcloud/ on sys.path and re-exports its client."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "localcloud"))

from client import READY_KEYS, LocalCloud, LocalCloudError  # noqa: E402,F401
