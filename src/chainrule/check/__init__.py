"""Checking a student's hand calculation against a problem's trace, step by step."""
