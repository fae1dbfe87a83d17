"""The daily report: built from the outcome statistics, written as JSON and HTML."""
