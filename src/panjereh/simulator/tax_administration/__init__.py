"""Simulated Iranian National Tax Administration (سازمان امور مالیاتی کشور)."""
