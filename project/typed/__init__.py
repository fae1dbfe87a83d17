"""The typed layer: tasks with a pydantic payload and a pydantic result."""

from project.typed.declare import typed_task
from project.typed.registry import get_task, load_all
from project.typed.result import TypedResult
from project.typed.task import TypedTask

__all__ = ["TypedResult", "TypedTask", "get_task", "load_all", "typed_task"]
