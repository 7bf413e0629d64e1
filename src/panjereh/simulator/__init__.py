"""Simulated agencies with synthetic data, so the whole country runs on one laptop.

The simulator stands outside the platform: it imports only `panjereh.domain`, and the exchange
reaches it over HTTP like any agency's system.
"""
