"""Simulated Iran Health Insurance Organization (سازمان بیمه سلامت ایران)."""
