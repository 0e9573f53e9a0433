"""Text cells that a spreadsheet will not run as formulas (CSV injection), for every CSV we write.

Time entries, statements and layer downloads all go through `safe_text`; imports of our own
files undo it with `unescape_text`.
"""

# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def unescape_text(value: str) -> str:
    """Undo `safe_text` so an exported file imports back unchanged."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value
