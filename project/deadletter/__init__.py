"""Dead letters: tasks that failed for good, kept in Redis to read and replay."""

from project.deadletter.model import DeadLetter, Reason
from project.deadletter.store import DeadLetterStore, dead_letter_store

__all__ = ["DeadLetter", "DeadLetterStore", "Reason", "dead_letter_store"]
