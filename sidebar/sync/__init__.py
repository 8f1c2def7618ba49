"""Keeping local data true: WeCom answers stored locally (callbacks and full sync come later)."""
