"""JS-SDK signatures (document/path/96909)."""
import hashlib
import secrets
import time


def sign(ticket, noncestr, timestamp, url):
    """sha1 of the fixed-order, unencoded string WeCom verifies; url without its #fragment."""
    url = url.split("#", 1)[0]
    plain = f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def signature_for(ticket, url, now=None):
    """The {timestamp, nonceStr, signature} object that ww.register's callbacks return."""
    timestamp = int(now if now is not None else time.time())
    noncestr = secrets.token_urlsafe(12)
    return {"timestamp": timestamp, "nonceStr": noncestr, "signature": sign(ticket, noncestr, timestamp, url)}
