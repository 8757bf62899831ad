"""The pieces of ``hack/driverbench.py``: the reference driver measured over fakehw trees, and
beside two Go drivers (``sidebyside``).

They live here and not in the driver's package because they make the hardware (and hot-plug
it) with fakehw, which the driver itself never imports.
"""
