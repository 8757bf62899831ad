"""A pytest plugin and suite that certifies any DRA driver through a cluster and its sockets."""

__version__ = "0.1.0"
