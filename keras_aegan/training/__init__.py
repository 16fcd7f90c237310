"""Training: the runner (config -> run folder), its callbacks, schedules and checkpoints."""
