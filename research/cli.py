"""Small helpers shared by the command-line scripts."""


def split_names(text: str) -> list[str]:
    """Split a comma-separated list, dropping blanks."""
    return [name.strip() for name in text.split(",") if name.strip()]
