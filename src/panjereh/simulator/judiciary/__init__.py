"""Simulated Judiciary (قوه قضاییه): criminal records and the SANA e-service registry."""
