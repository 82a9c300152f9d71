"""Anjian Cloud (安监云): work-safety supervision and emergency management platform."""

__version__ = "0.1.0"
