"""The kubelet's side of a driver's sockets, as the suite plays it.

    discovery.py  find a driver's registration socket the way the plugin watcher does
    client.py     GetInfo, NotifyRegistrationStatus, prepare, unprepare, health, typed
"""
