"""An independent model of the DRA structured-parameters allocator, to judge the scheduler
and the driver's slices from outside.

    quantity.py   Kubernetes resource quantities ("1Gi", "500m") as exact fractions
    cel.py        the subset of CEL that device selectors use, parsed and evaluated
    inventory.py  devices from ResourceSlices: attributes, capacities, node
    claims.py     requests, subrequests (firstAvailable), constraints
    allocator.py  a backtracking search for an allocation, and a checker for one
    strategies.py hypothesis strategies: claims built from a driver's real devices

It does not import the scheduler's logic or any driver: its answers are the suite's own
reading of the API's documented semantics.
"""
