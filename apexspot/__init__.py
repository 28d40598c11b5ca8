"""apexspot: spot the apex frame of facial micro-expressions (CASME II, SAMM)."""

__version__ = "0.1.0"
