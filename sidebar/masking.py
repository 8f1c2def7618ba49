"""Masking of personal data before it reaches a page (PIPL: financial data is sensitive)."""
import re


def mask_mobile(mobile):
    """138****5678: the first three and last four digits of a mobile number only."""
    digits = re.sub(r"\D", "", mobile or "")
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_account(number):
    """****4567: the last four characters of an account or ID number only."""
    value = (number or "").strip()
    return f"****{value[-4:]}" if len(value) > 4 else "****"
