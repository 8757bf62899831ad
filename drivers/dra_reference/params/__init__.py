"""Opaque claim parameters: versioned, strictly validated configuration objects per device kind.

``decode.config_for`` turns the opaque configs that apply to one allocated device into that
kind's typed configuration (``GpuConfig``, ``FpgaConfig``, ``CameraConfig``, ``CxlConfig``).
"""
