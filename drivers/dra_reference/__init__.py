"""The reference DRA driver: discovers hardware from a sysfs root, a devfs root and the network."""
