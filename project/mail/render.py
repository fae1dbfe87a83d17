"""Turning a template name and its context into a subject, a text and an HTML part."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jinja2


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("project.mail", "templates"),
        # HTML parts escape every value; the text parts have nothing to escape.
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), default_for_string=False
        ),
        # A missing variable is a bug in the task, not an empty string in an e-mail.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any]) -> RenderedEmail:
    """Render `<template>.subject.txt`, `<template>.txt` and `<template>.html`."""
    env = _environment()
    subject = env.get_template(f"{template}.subject.txt").render(context)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
    )
