"""The binaries a local cluster runs, built from the Go module proxy and cached by version."""

from fakehw.cluster.binaries.builder import BinarySet, ensure_binaries
from fakehw.cluster.binaries.cache import CacheEntry, default_cache_dir

__all__ = ["BinarySet", "CacheEntry", "default_cache_dir", "ensure_binaries"]
