"""The local stack of `make run`: Redis when none answers, an SMTP sink, the worker."""
