"""Read and write the record.json that each Hydra job writes into its output dir.

Also finds the records of a sweep and looks up a record's override and config values.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import os
import platform
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

RECORD_NAME = "record.json"
# Placeholder for a row key or seed that a record does not have.
MISSING = "—"
# Shown for a row key under a config group that the run did not use.
UNUSED = "none"
_NOT_FOUND = object()

logger = logging.getLogger(__name__)


class RecordsNotFoundError(FileNotFoundError):
    """Error raised when a sweep directory does not exist or contains no record.json."""


def write_record(path: Path, record: dict) -> None:
    """Write `record` to `path` atomically as strict JSON with indent 2.

    Float NaN and ±inf become null, and numpy scalars and arrays become plain numbers
    and lists. Other values that JSON cannot encode raise TypeError.
    """
    text = json.dumps(to_strict_json(record), indent=2, allow_nan=False)
    write_text_atomic(Path(path), text + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see either the old file or the new one.

    The text goes to a temporary file in the same directory, which is fsynced and then
    renamed onto `path` with os.replace. The temporary file is removed if either raises.
    """
    temp_path = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temp_path, "x", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX file systems.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def to_strict_json(value: Any) -> Any:
    """Return a copy of `value` that json.dumps can encode with allow_nan=False.

    NaN and ±inf floats become None, and numpy scalars and arrays become Python values.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: to_strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_strict_json(item) for item in value]
    return value


def read_record(path: Path) -> dict:
    """Read one record.json. Raises ValueError unless it is a valid JSON object."""
    with open(path, encoding="utf-8") as file:
        record = json.load(file)
    if not isinstance(record, dict):
        raise ValueError(
            f"{path} contains a JSON {type(record).__name__}, not an object"
        )
    return record


def find_records(root: Path) -> list[Path]:
    """Return every record.json under `root` (recursively), in sweep order.

    Paths are compared part by part relative to `root`: numeric parts (Hydra job
    numbers) compare as integers and sort before other parts, which compare as strings.
    So `2/record.json` comes before `10/record.json`.
    """
    root = Path(root)
    return sorted(root.rglob(RECORD_NAME), key=lambda path: _natural_key(path, root))


def _natural_key(path: Path, root: Path) -> tuple[tuple[int, int, str], ...]:
    parts = path.relative_to(root).parts
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part)
        for part in parts
    )


def load_records(dirs: Sequence[Path]) -> list[tuple[Path, dict]]:
    """Read the records under each directory, in the order of `dirs` and sweep order.

    A record.json that cannot be read or parsed is logged and counted as a failed run
    with the reason as its error, so that one damaged file does not hide the others.
    Raises RecordsNotFoundError, naming the directory, if one does not exist or
    contains no record.json.
    """
    records: list[tuple[Path, dict]] = []
    for directory in dirs:
        directory = Path(directory)
        if not directory.is_dir():
            raise RecordsNotFoundError(f"sweep directory not found: {directory}")
        paths = find_records(directory)
        if not paths:
            raise RecordsNotFoundError(f"no {RECORD_NAME} found under {directory}")
        records.extend((path, _read_or_mark_failed(path)) for path in paths)
    return records


def _read_or_mark_failed(path: Path) -> dict:
    try:
        return read_record(path)
    except (OSError, ValueError) as error:
        logger.warning("Counting %s as a failed run: %s", path, error)
        return {"status": "failed", "error": f"unreadable {RECORD_NAME}: {error}"}


def parse_overrides(record: dict) -> list[tuple[str, str]]:
    """Return the (key, value) pairs of a record's Hydra overrides.

    A leading `+`, `++` or `~` is dropped from the key. A deletion without a value
    (`~key`) gets the value "(deleted)".
    """
    items = []
    for override in record.get("overrides") or []:
        key, has_value, value = str(override).partition("=")
        items.append((key.lstrip("+~").strip(), value if has_value else "(deleted)"))
    return items


def override_items(record: dict) -> list[tuple[str, str]]:
    """Return `parse_overrides(record)` without the seed and hydra keys."""
    return [
        (key, value)
        for key, value in parse_overrides(record)
        if key not in ("seed", "hydra") and not key.startswith(("hydra.", "hydra/"))
    ]


def row_key_value(record: dict, key: str, mark_unused: bool = True) -> str:
    """Return the value of row key `key` for one record, or "—" if it has none.

    The record's overrides come first. Otherwise `key` is a dotted path into the
    config, and a config group such as `model` yields its `name` entry. A key under a
    config group that the run did not use (the record's `unused` list, for example
    `model` with raw features) yields "none" unless `mark_unused` is False.
    """
    if mark_unused and is_unused(record, key):
        return UNUSED
    for override_key, value in parse_overrides(record):
        if override_key == key:
            return value
    value = _lookup(record.get("config"), key.replace("/", "."))
    if isinstance(value, dict) and "name" in value:
        value = value["name"]
    if value is _NOT_FOUND:
        return MISSING
    return _config_text(value)


def is_unused(record: dict, key: str) -> bool:
    """Return whether row key `key` lies in a config part that the run did not use.

    The record's `unused` list contains config groups (`model`) or dotted keys
    (`model.hidden`). A key is unused when it is such an entry or lies under one,
    and a group key such as `model` also when its `name` entry is unused.
    """
    dotted = key.replace("/", ".")
    for entry in record.get("unused") or ():
        entry = str(entry).replace("/", ".")
        if (
            dotted == entry
            or dotted.startswith(entry + ".")
            or entry == dotted + ".name"
        ):
            return True
    return False


def _lookup(config: Any, dotted_path: str) -> Any:
    value = config
    for part in dotted_path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _NOT_FOUND
    return value


def _config_text(value: Any) -> str:
    # Spell values the way a Hydra override would, so both sources group together.
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def metric_value(record: dict, name: str) -> float | None:
    """Return a metric of a record as a float, or None unless it is a finite number."""
    metrics = record.get("metrics")
    value = metrics.get(name) if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def describe_hardware() -> dict[str, Any]:
    """Return the CPU model and core count, and JAX's backend and devices.

    Imports jax, which initialises its backend if the process has not done so.
    """
    import jax

    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "backend": jax.default_backend(),
        "devices": [device.device_kind for device in jax.devices()],
    }


def _cpu_model() -> str:
    # Linux names the CPU in /proc/cpuinfo; elsewhere the architecture has to do.
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return " ".join(line.partition(":")[2].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def hardware_text(hardware: Any) -> str:
    """Describe a record's `hardware` entry in a few words, or "hardware not recorded".

    Example: "1 x NVIDIA H200 (gpu), 16-core AMD EPYC 9454 48-Core Processor".
    """
    if not isinstance(hardware, dict):
        return "hardware not recorded"
    text = f"{hardware.get('cpu_count', '?')}-core {hardware.get('cpu', 'CPU')}"
    backend = hardware.get("backend")
    devices = hardware.get("devices") or []
    if backend and backend != "cpu" and devices:
        kinds = sorted(set(devices), key=devices.index)
        counted = ", ".join(f"{devices.count(kind)} x {kind}" for kind in kinds)
        text = f"{counted} ({backend}), {text}"
    return text


def used_config_text(record: dict) -> str | None:
    """Return the record's config without its unused parts as text, or None.

    The `unused` entries are config groups (`model`) or dotted keys (`model.hidden`).
    """
    config = record.get("config")
    if not isinstance(config, dict) or not config:
        return None
    used = copy.deepcopy(config)
    for entry in record.get("unused") or ():
        *parents, last = str(entry).split(".")
        node = used
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return json.dumps(used, sort_keys=True, default=str)
