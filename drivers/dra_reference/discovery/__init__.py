"""Finding devices the way a real driver does: from a sysfs root, a devfs root and the network."""
