"""Simulated Registration Organization of Deeds and Properties: the companies register.

(سازمان ثبت اسناد و املاک کشور)
"""
