"""Rendering and sending e-mail."""
