"""A pytest plugin and suite that certifies any DRA driver through a real cluster and its sockets."""
