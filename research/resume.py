"""Resuming a sweep: reuse a job's ok records when its config and data are unchanged.

Running a multirun again into the same sweep directory skips every job whose records
are `ok` for the same resolved config and data fingerprint, and reruns failed and
missing ones. Records that are replaced are kept as record.previous-N.json.
"""

import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from research.records import RECORD_NAME, read_record

log = logging.getLogger(__name__)

# Jobs skipped in this process; the end-of-sweep callback reports the count.
SKIPPED: list[str] = []


def existing_records(output_dir: Path) -> list[Path]:
    """Return the record files of a job directory: its own and its replicas'."""
    paths = [output_dir / RECORD_NAME] if (output_dir / RECORD_NAME).exists() else []
    return paths + sorted(output_dir.glob(f"replica_*/{RECORD_NAME}"))


def reusable_records(
    output_dir: Path, cfg: DictConfig, fingerprint: str, n_replicas: int
) -> list[dict[str, Any]] | None:
    """Return the job's records if all are ok for this config and data, else None."""
    paths = existing_records(output_dir)
    if len(paths) != n_replicas:
        return None
    config = OmegaConf.to_container(cfg, resolve=True)
    records = []
    for path in paths:
        try:
            record = read_record(path)
        except (OSError, ValueError):
            return None
        same_data = record.get("data", {}).get("data_fingerprint") == fingerprint
        if record.get("status") != "ok" or record.get("config") != config:
            return None
        if not same_data:
            return None
        records.append(record)
    return records


def set_aside(output_dir: Path) -> None:
    """Rename the job's records to record.previous-N.json so nothing is lost."""
    for path in existing_records(output_dir):
        n = 1
        while (target := path.with_name(f"record.previous-{n}.json")).exists():
            n += 1
        path.rename(target)
        log.info("kept the earlier %s as %s", path, target.name)
