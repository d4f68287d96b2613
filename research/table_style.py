"""Display names, cell style and output markup of the sweep tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from research.records import MISSING

# configs/config.yaml of the checkout holding this package.
DEFAULT_NAMES_FILE = Path(__file__).resolve().parent.parent / "configs" / "config.yaml"

ERRORBARS = ("std", "ci")


@dataclass(frozen=True)
class DisplayNames:
    """Display names of config keys and metrics, and of the values of each key.

    They come from the `names` and `value_names` entries of a `table` config block.
    Anything not listed is shown as it is.
    """

    names: Mapping[str, str] = field(default_factory=dict)
    value_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def name(self, key: str) -> str:
        """Return the display name of a config key or metric."""
        return str(self.names.get(key, key))

    def value(self, key: str, value: str) -> str:
        """Return the display name of `value` of config key `key`."""
        return str(self.value_names.get(key, {}).get(value, value))

    @classmethod
    def from_config(cls, block: Any, source: str = "config") -> DisplayNames:
        """Read `names` and `value_names` from a `table` block (dict or DictConfig).

        Raises ValueError, naming `source`, when they are not mappings (of
        mappings, for `value_names`).
        """
        if isinstance(block, DictConfig):
            block = OmegaConf.to_container(block, resolve=True)
        block = block or {}
        names = block.get("names") or {}
        value_names = block.get("value_names") or {}
        if not isinstance(names, dict) or not isinstance(value_names, dict):
            raise ValueError(
                f"{source}: table.names and table.value_names must be mappings"
            )
        for key, mapping in value_names.items():
            if not isinstance(mapping, dict):
                raise ValueError(f"{source}: table.value_names.{key} must be a mapping")
        return cls(
            {str(k): str(v) for k, v in names.items()},
            {
                str(key): {str(k): str(v) for k, v in mapping.items()}
                for key, mapping in value_names.items()
            },
        )

    @classmethod
    def load(cls, path: Path) -> DisplayNames:
        """Read the `table` block of a YAML file such as configs/config.yaml.

        A file without a `table` block is read as the block itself. Raises
        ValueError for a missing or invalid file.
        """
        if not Path(path).is_file():
            raise ValueError(f"names file not found: {path}")
        try:
            config = OmegaConf.load(path)
        except yaml.YAMLError as error:
            raise ValueError(f"names file {path} is not valid YAML: {error}") from None
        block = config.get("table", config) if isinstance(config, DictConfig) else {}
        return cls.from_config(block, str(path))


def load_display_names(path: Path | None = None, raw: bool = False) -> DisplayNames:
    """Return the display names of `path`, else of the repository's config.yaml.

    With `raw`, or without `path` when configs/config.yaml is absent (an installed
    package), no names are used.
    """
    if raw:
        return DisplayNames()
    if path is None:
        path = DEFAULT_NAMES_FILE
        if not path.is_file():
            return DisplayNames()
    return DisplayNames.load(path)


@dataclass(frozen=True)
class TableStyle:
    """Cell format and LaTeX extras: decimals, error bar, bold, names, caption, footer.

    `errorbar` is "std" (sample std) or "ci" (half-width of the `ci_level` Student
    t interval). `caption` and `label` are LaTeX only. Without `footer` the LaTeX
    table keeps the provenance line as a comment only.
    """

    decimals: int = 3
    errorbar: str = "std"
    ci_level: float = 0.95
    bold: bool = True
    names: DisplayNames = field(default_factory=DisplayNames)
    caption: str | None = None
    label: str | None = None
    footer: bool = True

    def __post_init__(self) -> None:
        if self.errorbar not in ERRORBARS:
            raise ValueError(f"errorbar={self.errorbar!r} must be 'std' or 'ci'")
        if not 0 < self.ci_level < 1:
            raise ValueError(f"ci_level={self.ci_level!r} must be in (0, 1)")
        if not 0 <= self.decimals <= 10:
            raise ValueError(f"decimals={self.decimals!r} must be in 0..10")


@dataclass(frozen=True)
class Markup:
    """The symbols of one output format."""

    pm: str
    dash: str
    dagger: str
    minus: str
    plus: str
    bold: Callable[[str], str]
    escape: Callable[[str], str]


def escape_markdown(text: str) -> str:
    """Escape the cell separator `|`."""
    return text.replace("|", "\\|")


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "—": "---",
    "†": r"$^\dagger$",
    "<": "$<$",
    ">": "$>$",
}


def escape_latex(text: str) -> str:
    """Escape LaTeX's special characters, < and > (which OT1 fonts lack), and ± — †."""
    return "".join(LATEX_SPECIALS.get(char, char) for char in text)


MARKDOWN = Markup(" ± ", MISSING, "†", "-", "+", "**{}**".format, escape_markdown)
LATEX_BOLD = r"\textbf{{{}}}".format
LATEX = Markup(r" $\pm$ ", "---", r"$^\dagger$", "$-$", "$+$", LATEX_BOLD, escape_latex)
