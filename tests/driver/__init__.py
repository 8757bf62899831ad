"""Tests of the reference DRA driver's kubelet plugin layer."""
