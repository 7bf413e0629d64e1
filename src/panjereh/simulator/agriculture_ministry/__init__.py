"""Simulated Ministry of Agriculture Jihad (وزارت جهاد کشاورزی)."""
