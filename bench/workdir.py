"""The folder a benchmark works in: the one given with --keep (new or empty, kept afterwards) or a temporary one."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def work_folder(ap: argparse.ArgumentParser, keep: str | None, prefix: str) -> Path:
    """`keep` made ready (refused through the parser when it holds files), or a new temporary folder."""
    if not keep:
        return Path(tempfile.mkdtemp(prefix=prefix))
    work = Path(keep).resolve()
    if work.exists() and any(work.iterdir()):
        ap.error(f"--keep {work}: the folder must be new or empty")
    work.mkdir(parents=True, exist_ok=True)
    return work
