"""Which WeCom contact a trading account belongs to: by unionid, else by a mobile an advisor noted."""
import re
from collections import defaultdict

from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import ClientProfile, ContactMobile, ExternalContact, utcnow

MOBILE = re.compile(r"1[0-9]{10}")
MOBILE_NOISE = re.compile(r"[\s\-()]")
COUNTRY_PREFIX = re.compile(r"^(\+86|0086|86)(?=1[0-9]{10}$)")


def normalise_mobile(value):
    """A mainland mobile as its 11 digits (spaces, dashes, +86 dropped), or None if it is not one."""
    if not isinstance(value, str):
        return None
    digits = COUNTRY_PREFIX.sub("", MOBILE_NOISE.sub("", value))
    return digits if MOBILE.fullmatch(digits) else None


def link_profiles(contact):
    """Link the profiles naming this contact's unionid or a mobile noted for it; the caller commits."""
    mobiles = db.session.scalars(select(ContactMobile.mobile).where(
        ContactMobile.external_userid == contact.external_userid)).all()
    conditions = [ClientProfile.unionid == contact.unionid] if contact.unionid else []
    if mobiles:
        conditions.append(ClientProfile.mobile.in_(mobiles))
    if not conditions:
        return 0
    profiles = db.session.execute(select(
        ClientProfile.account_id, ClientProfile.unionid, ClientProfile.mobile,
        ClientProfile.external_userid).where(or_(*conditions))).all()
    matches = contact_matches({p.unionid for p in profiles}, {p.mobile for p in profiles})
    changes = []
    for profile in profiles:
        linked = linked_contact(profile.unionid, profile.mobile, matches)
        if linked and linked != profile.external_userid:
            changes.append({"account_id": profile.account_id, "external_userid": linked,
                            "updated_at": utcnow()})
    if changes:
        db.session.execute(update(ClientProfile), changes)
    return len(changes)


def contact_matches(unionids, mobiles):
    """Who could be meant: unionid -> {external_userid} and mobile -> {external_userid}."""
    by_unionid, by_mobile = defaultdict(set), defaultdict(set)
    unionids, mobiles = unionids - {None}, mobiles - {None}
    if unionids:
        for unionid, external_userid in db.session.execute(select(
                ExternalContact.unionid, ExternalContact.external_userid).where(
                ExternalContact.unionid.in_(unionids))):
            by_unionid[unionid].add(external_userid)
    if mobiles:
        for mobile, external_userid in db.session.execute(select(
                ContactMobile.mobile, ContactMobile.external_userid).where(ContactMobile.mobile.in_(mobiles))):
            by_mobile[mobile].add(external_userid)
    return by_unionid, by_mobile


def linked_contact(unionid, mobile, matches):
    """The one contact with this unionid, else the one contact that noted this mobile, else None."""
    by_unionid, by_mobile = matches
    for candidates in (by_unionid.get(unionid), by_mobile.get(mobile)):
        if candidates and len(candidates) == 1:  # two contacts sharing a number: guessing would mislink
            return next(iter(candidates))
    return None
