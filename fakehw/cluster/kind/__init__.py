"""kind support: cluster configs for Kubernetes 1.37 with DRA and CDI, and kind's commands."""
