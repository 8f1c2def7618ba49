"""Encrypted callbacks to the app, as WeCom sends them when the world changes (wecom.md §3).

This is WeCom's side of WXBizMsgCrypt, written separately from the app's receiver so that a
mistake on one side is not mirrored on the other. Deliveries run on a thread of their own, in
the order the world changed; test switches drop, duplicate, delay or hold them.
"""
import base64
import hashlib
import os
import secrets
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TIMEOUT = 5  # WeCom gives up on an answer after 5 s and tries again
RETRIES = 3  # "总共重试三次"
RETRY_PAUSE = 0.2
LOG_SIZE = 1000
NUMERIC = {"CreateTime", "JoinScene", "QuitScene", "MemChangeCnt"}


def wecom_encrypt(aes_key, receiveid, message):
    """Base64 AES-256-CBC of random(16) | length | message | receiveid, PKCS#7 to 32-byte blocks."""
    key = base64.b64decode(aes_key + "=")
    body = message.encode()
    plain = os.urandom(16) + struct.pack("!I", len(body)) + body + receiveid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def wecom_signature(token, timestamp, nonce, encrypted):
    """msg_signature: sha1 over the sorted strings."""
    return hashlib.sha1("".join(sorted([token, str(timestamp), str(nonce), encrypted])).encode()).hexdigest()


def event_xml(corp_id, create_time, change):
    """The plaintext XML WeCom would send for a change: text in CDATA, numbers bare, lists as <Item>."""
    fields = {"ToUserName": corp_id, "FromUserName": "sys", "CreateTime": int(create_time), "MsgType": "event",
              **change}
    parts = []
    for name, value in fields.items():
        if isinstance(value, list):
            inner = "".join(f"<Item><![CDATA[{escape(str(item))}]]></Item>" for item in value)
        elif name in NUMERIC:
            inner = str(int(value))
        else:
            inner = f"<![CDATA[{str(value).replace(']]>', ']]]]><![CDATA[>')}]]>"
        parts.append(f"<{name}>{inner}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class Target:
    """Where callbacks go, and the Token and EncodingAESKey they are made with."""

    url: str
    token: str
    aes_key: str


@dataclass
class Switches:
    """Test switches: drop the next N callbacks (-1: all), duplicate each, delay each, hold them back."""

    drop: int = 0
    duplicate: bool = False
    delay: float = 0.0
    hold: bool = False

    def as_json(self):
        """The switches as JSON."""
        return {"drop": self.drop, "duplicate": self.duplicate, "delay": self.delay, "hold": self.hold}


@dataclass
class Delivery:
    """One callback: its fields and XML, and what became of it."""

    number: int
    change: dict
    xml: str
    status: str = "queued"  # queued, held, dropped, delivered, failed, no target
    answers: list = field(default_factory=list)  # HTTP status (or error) of each attempt
    at: float = 0.0

    def as_json(self):
        """The delivery as the admin log shows it."""
        return {"number": self.number, **{k: v for k, v in self.change.items()}, "status": self.status,
                "answers": list(self.answers), "at": self.at}


class CallbackSender:
    """Turns world changes into encrypted POSTs to the configured target, one at a time, in order."""

    def __init__(self, corp_id, agent_id, now, target=None):
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.now = now
        self.target = target
        self.switches = Switches()
        self.log = deque(maxlen=LOG_SIZE)
        self._queue = deque()
        self._held = []
        self._busy = False
        self._count = 0
        self._condition = threading.Condition()
        self._http = requests.Session()
        threading.Thread(target=self._run, name="wecom-callbacks", daemon=True).start()

    # -- configuration ---------------------------------------------------------------------------

    def configure(self, url, token, aes_key):
        """Send future callbacks to url, made with this Token and EncodingAESKey."""
        with self._condition:
            self.target = Target(url, token, aes_key)

    def reset(self):
        """No target, no switches, empty log and nothing held (a test's clean start)."""
        with self._condition:
            self.target = None
            self.switches = Switches()
            self.log.clear()
            self._held.clear()

    def set_switches(self, **values):
        """Change some switches."""
        with self._condition:
            for name, value in values.items():
                setattr(self.switches, name, value)
            return self.switches.as_json()

    # -- world changes -----------------------------------------------------------------------------

    def world_changed(self, change):
        """A world listener: queue (or hold, or drop) the callback for this change."""
        with self._condition:
            self._count += 1
            delivery = Delivery(self._count, change, event_xml(self.corp_id, self.now(), change), at=self.now())
            self.log.append(delivery)
            if self.target is None:
                delivery.status = "no target"
            elif self.switches.drop:
                delivery.status = "dropped"
                if self.switches.drop > 0:
                    self.switches.drop -= 1
            elif self.switches.hold:
                delivery.status = "held"
                self._held.append(delivery)
            else:
                self._queue.append(delivery)
                self._condition.notify_all()

    def release(self, order="fifo"):
        """Send what is held, in arrival order or reversed (late and reordered delivery)."""
        with self._condition:
            held = self._held if order == "fifo" else list(reversed(self._held))
            self._held = []
            for delivery in held:
                delivery.status = "queued"
                self._queue.append(delivery)
            self._condition.notify_all()
            return len(held)

    def wait_idle(self, timeout=10):
        """Block until nothing is queued or being sent (held ones excepted); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def deliveries(self, after=0):
        """The log (callbacks numbered above `after`), oldest first."""
        with self._condition:
            return [delivery.as_json() for delivery in self.log if delivery.number > after]

    @property
    def count(self):
        """How many callbacks the world has caused so far (the number of the latest)."""
        with self._condition:
            return self._count

    # -- sending -----------------------------------------------------------------------------------

    def _run(self):
        """The delivery thread: one callback at a time, in order."""
        while True:
            with self._condition:
                while not self._queue:
                    self._condition.wait()
                delivery = self._queue.popleft()
                self._busy = True
                target, switches = self.target, Switches(**vars(self.switches))
            try:
                self._deliver(delivery, target, switches)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _deliver(self, delivery, target, switches):
        """POST the callback (twice with `duplicate`), retrying like WeCom when there is no 200."""
        if target is None:
            delivery.status = "no target"
            return
        if switches.delay:
            time.sleep(switches.delay)
        delivery.status = "delivered" if self._post(delivery, target) else "failed"
        if switches.duplicate:
            self._post(delivery, target)  # a retry re-encrypts: same XML, different ciphertext

    def _post(self, delivery, target):
        """Up to RETRIES+1 attempts until the app answers 200."""
        for attempt in range(RETRIES + 1):
            encrypted = wecom_encrypt(target.aes_key, self.corp_id, delivery.xml)
            timestamp, nonce = str(int(self.now())), str(secrets.randbelow(10**10))
            body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>")
            params = {"msg_signature": wecom_signature(target.token, timestamp, nonce, encrypted),
                      "timestamp": timestamp, "nonce": nonce}
            try:
                answer = self._http.post(target.url, params=params, data=body.encode(), timeout=TIMEOUT,
                                         headers={"Content-Type": "text/xml"})
                delivery.answers.append(answer.status_code)
                if answer.status_code == 200:
                    return True
            except requests.RequestException as error:
                delivery.answers.append(type(error).__name__)
            if attempt < RETRIES:
                time.sleep(RETRY_PAUSE)
        return False

    def verify_url(self):
        """WeCom's URL check when the callback is configured: GET with an echostr; True if echoed back."""
        target = self.target
        if target is None:
            return False
        echo = str(secrets.randbelow(10**19))
        encrypted = wecom_encrypt(target.aes_key, self.corp_id, echo)
        timestamp, nonce = str(int(self.now())), str(secrets.randbelow(10**10))
        params = {"msg_signature": wecom_signature(target.token, timestamp, nonce, encrypted),
                  "timestamp": timestamp, "nonce": nonce, "echostr": encrypted}
        try:  # not self._http: that session belongs to the delivery thread
            answer = requests.get(target.url, params=params, timeout=TIMEOUT)
        except requests.RequestException:
            return False
        return answer.status_code == 200 and answer.text == echo
