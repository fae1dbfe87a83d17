"""Task modules, one per domain. Each is listed in `project.celery_app.TASK_MODULES`."""
