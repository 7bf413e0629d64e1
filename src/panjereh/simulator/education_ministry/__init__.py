"""Simulated Ministry of Education (وزارت آموزش و پرورش)."""
