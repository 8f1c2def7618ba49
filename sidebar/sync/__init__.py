"""Keeping local data true: WeCom callbacks (inbox, events), full sync, the trading-profile import, tag push."""
