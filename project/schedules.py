"""The cron schedule that beat runs. Filled in by the schedules work."""
