"""Simulated Ministry of Petroleum (وزارت نفت): fuel cards and quotas."""
