"""Simulated Civil Registration Organization (سازمان ثبت احوال کشور)."""
