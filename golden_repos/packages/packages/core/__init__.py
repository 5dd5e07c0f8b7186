"""Pricing engine."""
