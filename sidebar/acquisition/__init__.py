"""Acquisition (获客): channels with contact-me or group join codes, the arrivals they bring, the welcome,
and every contact attributed to the channel they came through (issue 20)."""
