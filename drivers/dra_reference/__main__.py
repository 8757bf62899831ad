"""``python -m dra_reference``: see ``dra_reference.cli``."""

from dra_reference.cli import main

main()
