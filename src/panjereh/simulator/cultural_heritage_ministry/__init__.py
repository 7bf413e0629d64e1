"""Simulated Ministry of Cultural Heritage, Tourism and Handicrafts.

(وزارت میراث فرهنگی، گردشگری و صنایع دستی)
"""
