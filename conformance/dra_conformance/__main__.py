"""``python -m dra_conformance``."""

from dra_conformance.cli import main

main()
