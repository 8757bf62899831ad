"""The conformance tests themselves, run with ``pytest --pyargs dra_conformance.suite``.

Every test carries ``@pytest.mark.requirement(ID)`` and a tier marker (``socket`` or
``cluster``); they reach the driver only through the plugin's fixtures.
"""
