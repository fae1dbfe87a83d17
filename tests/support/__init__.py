"""Real services for the test suite: Redis servers, an SMTP server, workers."""
