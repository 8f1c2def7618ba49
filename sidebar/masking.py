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


# Personal numbers people type into remarks, descriptions, notes and names. Digits next to digits
# are one number (so a mobile inside a longer run is no mobile); one pass, first alternative wins.
NUMBER_IN_TEXT = re.compile(r"""(?<![\d.])(?:
      (?P<id>\d{17}[\dXx])(?![\dA-Za-z])                 # resident ID: 17 digits and a check digit or X
    | (?P<mobile>1[3-9]\d[ -]?\d{4}[ -]?\d{4})(?!\d)     # mainland mobile, maybe written 138-1234-5678
    | (?P<card>\d{4}(?:[ -]\d{4}){2,}(?:[ -]\d{1,4})?)(?!\d)  # a card or account number in groups of four
    | (?P<run>\d{8,})(?!\d|\.\d)                         # any other long run: account numbers, not amounts
)""", re.VERBOSE)


def mask_free_text(text):
    """Free text with mobiles as 138****5678 and ID, card and account numbers as ****1234 (dates kept)."""
    if not text:
        return text
    return NUMBER_IN_TEXT.sub(_masked_number, str(text))


def _masked_number(match):
    """The masked form of one number found in free text."""
    if match["mobile"]:
        return mask_mobile(match["mobile"])
    digits = re.sub(r"[ -]", "", match[0])
    if match["run"] and _is_date(digits):
        return match[0]
    return mask_account(digits)


def _is_date(digits):
    """20260115: eight digits that read as a date of this or the last century."""
    if len(digits) != 8 or digits[:2] not in ("19", "20"):
        return False
    month, day = int(digits[4:6]), int(digits[6:])
    return 1 <= month <= 12 and 1 <= day <= 31
