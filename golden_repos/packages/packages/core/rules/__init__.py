"""Discount rules."""
