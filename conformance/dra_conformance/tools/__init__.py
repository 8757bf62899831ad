"""Tools around the suite: ``proxy`` puts a deliberately broken driver in front of a good one."""
