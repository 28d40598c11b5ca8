"""apexspot: spot the apex frame of facial micro-expressions (CASME II, SAMM)."""

__version__ = "0.1.0"

import os as _os

from apexspot.core.console import quiet_tensorflow as _quiet_tensorflow

# TensorFlow's start-up chatter (CUDA probing on CPU machines and the like) is not for our
# users: set TF_CPP_MIN_LOG_LEVEL / APEXSPOT_TF_NOISE=1 yourself to see it.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_quiet_tensorflow()
