"""Annotation in Label Studio: project set-up, task push, active learning, agreement, export."""
