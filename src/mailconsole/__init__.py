"""mailconsole: a self-hosted email delivery engine with a keyboard-driven terminal console."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mailconsole")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"
