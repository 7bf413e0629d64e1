"""Simulated Ministry of Interior (وزارت کشور): elections."""
