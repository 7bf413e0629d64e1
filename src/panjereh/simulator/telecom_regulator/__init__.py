"""Simulated Communications Regulatory Authority (سازمان تنظیم مقررات و ارتباطات رادیویی)."""
