"""A Django project that enqueues typed tasks after its transactions commit."""
