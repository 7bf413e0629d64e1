"""Simulated Traffic Police (پلیس راهور فراجا)."""
