"""Audit: one durable record of every inquiry through the exchange."""
