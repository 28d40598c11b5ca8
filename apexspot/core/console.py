"""What the stages print: no TensorFlow start-up noise, progress bars on a terminal and
plain periodic lines in a log file."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
from typing import Any, Iterable, TextIO

from tqdm import tqdm

# Lines TensorFlow's C++ side writes straight to file descriptor 2 while it loads and finds
# its devices (absl's "before InitializeLog", CUDA probing on a CPU machine, CPU features).
# TF_CPP_MIN_LOG_LEVEL no longer silences them (TensorFlow 2.21), so they are captured and
# dropped; anything else written meanwhile is passed on.
NOISE = ("All log messages before absl::InitializeLog()", "cudart_stub.cc", "cuda_platform.cc", "cuda_executor.cc",
         "cpu_feature_guard.cc", "To enable the following instructions", "port.cc", "cuda_fft.cc", "cuda_dnn.cc",
         "cuda_blas.cc", "computation_placer.cc", "Unable to register cu", "TF-TRT Warning")
# Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL = 30.0


class _QuietLoader(importlib.abc.Loader):
    """Runs TensorFlow's own loader with fd 2 captured, then initialises its devices the same
    way (the CUDA probe prints on the first op, not on import)."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        with captured_stderr():
            self.loader.exec_module(module)
            try:  # the first op probes devices; if that fails, the caller's first op says why
                module.config.list_physical_devices()
                module.constant(0.0) + 1.0
            except Exception:  # noqa: BLE001
                pass


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


class captured_stderr:
    """Capture what C++ code writes to fd 2; on exit, pass on every line that is not NOISE."""

    def __enter__(self) -> "captured_stderr":
        sys.stderr.flush()
        self.saved = os.dup(2)
        self.file = tempfile.TemporaryFile()
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        kept = [line for line in self.file.read().decode(errors="replace").splitlines(keepends=True)
                if line.strip() and not any(n in line for n in NOISE)]
        self.file.close()
        sys.stderr.write("".join(kept))


def quiet_tensorflow() -> None:
    """Silence TensorFlow's start-up lines for this process (and the workers it forks).
    Set APEXSPOT_TF_NOISE=1 to see them."""
    if os.environ.get("APEXSPOT_TF_NOISE") or "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())


class _Lines:
    """A file for tqdm that turns its carriage-return redraws into whole lines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


def progress(iterable: Iterable[Any] | None = None, **kwargs: Any) -> tqdm:
    """tqdm on a terminal; in a log file one plain line every LOG_INTERVAL seconds and at the end."""
    stream = sys.stderr
    if kwargs.get("disable") or stream.isatty():
        return tqdm(iterable, file=stream, **kwargs)
    return tqdm(iterable, file=_Lines(stream), mininterval=LOG_INTERVAL, maxinterval=LOG_INTERVAL * 4,
                ascii=True, ncols=100, dynamic_ncols=False, **kwargs)


def fit_verbosity() -> int:
    """Keras `fit(verbose=)`: a progress bar per epoch on a terminal, one line per epoch in a log."""
    return 1 if sys.stdout.isatty() else 2
