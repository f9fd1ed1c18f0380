"""Training runs: the `ganzoo` command, its callbacks and run directories."""
