"""Advisor identity: WeCom OAuth, session, roles, JS-SDK signatures, the sidebar entry page."""
