"""restoreproof: prove that restic backups restore."""

__version__ = "0.1.0"
