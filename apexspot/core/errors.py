"""Errors a user can act on: each message names the file, sheet, row or clip at fault."""

import sys
from typing import Callable


class ApexspotError(Exception):
    """Base class; the CLI and stage scripts print these without a traceback."""


class SheetError(ApexspotError):
    """An annotation sheet that cannot be read as a whole (not a clip-level defect)."""


class DefectError(ApexspotError):
    """Raised under the `fail` policy when a clip is defective."""


class ParamsError(ApexspotError):
    """A params.yaml value that is missing or out of range."""


def run_stage(name: str, main: Callable[[], None]) -> None:
    """Run a stage or CLI command; an error a user can act on becomes one line on stderr."""
    try:
        main()
    except ApexspotError as err:
        sys.exit(f"{name}: error: {err}")
    except FileNotFoundError as err:  # an input an earlier stage writes
        sys.exit(f"{name}: error: {err.filename}: missing (run the stages before this one: `dvc repro`)")
    except OSError as err:  # disk full, a file-size limit, no permission: what the system said, and where
        where = f"{err.filename}: " if err.filename else ""
        sys.exit(f"{name}: error: {where}{err.strerror or err} (nothing half-written is left behind)")
    except KeyboardInterrupt:
        sys.exit(f"{name}: interrupted")
