"""WeCom callback crypto (WXBizMsgCrypt, wecom.md §3) with the `cryptography` package, and safe XML.

msg_signature = sha1 of the sorted concatenation of token, timestamp, nonce and the ciphertext;
the ciphertext is AES-256-CBC (IV = the key's first 16 bytes) over
random(16) | len(msg) as 4-byte big-endian | msg | receiveid, PKCS#7-padded to 32-byte blocks.
"""
import base64
import binascii
import hashlib
import hmac
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

PAD_BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16: a 16-byte unpadder would refuse real messages
MAX_XML = 256 * 1024
# A signed callback is WeCom's only within this many seconds of our clock: WeCom delivers (and retries)
# at once, so an older one is a replay of a captured request; both ways, for clocks a little apart.
MAX_SKEW = 300


class CallbackError(Exception):
    """A callback we refuse; `status` is the HTTP status to answer."""

    status = 400


class BadSignature(CallbackError):
    """msg_signature does not match: not from WeCom, or not for our Token."""

    status = 403


class WrongReceiver(CallbackError):
    """Decrypted fine, but meant for another corp (receiveid)."""

    status = 403


class Stale(CallbackError):
    """Signed correctly, but its timestamp is further than MAX_SKEW from now: a replay."""

    status = 403


class Malformed(CallbackError):
    """Not base64, not a whole number of AES blocks, bad padding, bad length or bad XML."""


class CallbackCrypto:
    """Sign, verify, encrypt and decrypt callbacks for one Token, EncodingAESKey and receiveid."""

    def __init__(self, token, encoding_aes_key, receiveid):
        self.token = token
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("an EncodingAESKey is 43 base64 characters (32 bytes)")
        self.receiveid = receiveid

    def signature(self, timestamp, nonce, encrypted):
        """msg_signature of a ciphertext (or an echostr)."""
        parts = sorted([self.token, str(timestamp), str(nonce), encrypted])
        return hashlib.sha1("".join(parts).encode()).hexdigest()

    def verify(self, msg_signature, timestamp, nonce, encrypted):
        """Raise BadSignature unless msg_signature is right; compared in constant time."""
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), (msg_signature or "").encode()):
            raise BadSignature("msg_signature does not match")

    def decrypt(self, encrypted):
        """The message inside a ciphertext; Malformed or WrongReceiver when it is not ours."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise Malformed("ciphertext is not base64") from None
        if not data or len(data) % 16:
            raise Malformed("ciphertext is not a whole number of AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = _unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise Malformed("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if length > len(plain) - 20:
            raise Malformed("message length beyond the plaintext")
        message, receiveid = plain[20:20 + length], plain[20 + length:]
        if not hmac.compare_digest(receiveid, self.receiveid.encode()):
            raise WrongReceiver("receiveid is not our corp id")
        return message

    def encrypt(self, message, random_prefix=None):
        """Ciphertext of a message (bytes or str), as WeCom sends it."""
        if isinstance(message, str):
            message = message.encode()
        plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(message)) + message + self.receiveid.encode()
        pad = PAD_BLOCK - len(plain) % PAD_BLOCK
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()).decode()

    def envelope(self, message, timestamp, nonce):
        """(query params, XML body) of a POST carrying message, as WeCom would deliver it."""
        encrypted = self.encrypt(message)
        body = (f"<xml><ToUserName><![CDATA[{self.receiveid}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>")
        params = {"msg_signature": self.signature(timestamp, nonce, encrypted),
                  "timestamp": str(timestamp), "nonce": str(nonce)}
        return params, body


def _unpad(plain):
    """Strip PKCS#7 padding to 32-byte blocks, checking every pad byte."""
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= PAD_BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise Malformed("bad padding")
    return plain[:-pad]


def parse_xml(data):
    """A flat dict of the root's children (text; <Item> lists as lists); Malformed for anything unsafe."""
    if len(data) > MAX_XML:
        raise Malformed("XML too large")
    try:
        root = fromstring(data, forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError) as error:  # ParseError is a SyntaxError
        raise Malformed(f"XML refused: {type(error).__name__}") from None
    if root.tag != "xml":
        raise Malformed("the root element is not <xml>")
    fields = {}
    for child in root:
        items = [item.text or "" for item in child if item.tag == "Item"]
        fields[child.tag] = items if items else (child.text or "").strip()
    return fields


def check_fresh(timestamp, now=None):
    """Raise Stale unless the (signed) timestamp is within MAX_SKEW seconds of now."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise Malformed("timestamp is not a number") from None
    if abs((time.time() if now is None else now) - signed_at) > MAX_SKEW:
        raise Stale("timestamp too far from now: a replayed callback")


def open_envelope(crypto, params, body, now=None):
    """Verify, check the age of and decrypt a callback POST; returns the decrypted XML bytes and its fields."""
    encrypted = parse_xml(body).get("Encrypt")
    if not encrypted or not isinstance(encrypted, str):
        raise Malformed("no <Encrypt> element")
    crypto.verify(params.get("msg_signature"), params.get("timestamp", ""), params.get("nonce", ""), encrypted)
    check_fresh(params.get("timestamp", ""), now)
    message = crypto.decrypt(encrypted)
    return message, parse_xml(message)


def echo(crypto, params, now=None):
    """The plaintext of a URL-verification GET, after checking its signature and age."""
    echostr = params.get("echostr", "")
    if not echostr:
        raise Malformed("no echostr")
    crypto.verify(params.get("msg_signature"), params.get("timestamp", ""), params.get("nonce", ""), echostr)
    check_fresh(params.get("timestamp", ""), now)
    return crypto.decrypt(echostr)
