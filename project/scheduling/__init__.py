"""Cron schedules on RedBeat: typed entries, zoned cron, one fire per slot.

See docs/SCHEDULES.md for the daylight-saving policy and the Redis keys.
"""
