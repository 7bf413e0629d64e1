"""Simulated Social Security Organization (سازمان تأمین اجتماعی)."""
