"""Per-kind preparation behind the kubelet plugin's ``Preparer`` seam.

``dispatch.KindDispatcher`` is the Preparer the plugin is given: it validates every device's
parameters first, then hands each device to its kind's preparer (``gpu``, ``fpga``,
``camera``, ``cxl``), journaling undo data as it goes so that a failure or a crash part-way
through is undone.
"""
