"""Simulated State Welfare Organization (سازمان بهزیستی کشور)."""
