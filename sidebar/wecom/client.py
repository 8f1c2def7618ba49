"""WeCom server-API client: the only code that builds WeCom URLs. Knows nothing of Flask."""
import threading
import time
from urllib.parse import urlencode

import requests

from . import errors
from .errors import RateLimited, WeComError, WeComUnavailable

TIMEOUT = (3.05, 10)  # connect, read: a sidebar request must never hang on WeCom
BUSY_RETRIES = 3
BUSY_BACKOFF = 0.2  # seconds, doubled per retry
RATE_LIMIT_PAUSE = 60  # after 45009/45033, WeCom asks us to stay away about a minute
OUTAGE_PAUSE = 10  # after a timeout, an unreachable WeCom or -1 to the end: one new attempt per interval
TROUBLE_MEMORY = 300  # how long a failure colours pages ("数据更新于 …") unless a call succeeds first


class WeComClient:
    """Calls the WeCom server API with a cached access token and WeCom's retry rules."""

    def __init__(self, api_base, oauth_base, corp_id, agent_id, secret, cache, session=None,
                 sleep=time.sleep, rate_limit_pause=RATE_LIMIT_PAUSE, outage_pause=OUTAGE_PAUSE,
                 timeout=TIMEOUT):
        self.api_base = api_base.rstrip("/")
        self.oauth_base = oauth_base.rstrip("/")
        self.corp_id = corp_id
        self.agent_id = str(agent_id)
        self._secret = secret
        self._cache = cache
        self._http = session or requests.Session()
        self._sleep = sleep
        self._paused_until = {}  # path -> epoch; per process, enough to stop a retry storm
        self.rate_limit_pause = rate_limit_pause
        self.outage_pause = outage_pause
        self.timeout = timeout
        self._failed_at = 0.0  # when the last call failed for WeCom's reasons (0: the last one worked)
        self._lock = threading.Lock()

    # --- tokens and tickets -------------------------------------------------------------

    def access_token(self):
        """The corp access token, from the shared cache or freshly fetched."""
        return self._cache.get(self._key("access_token"), self._fetch_token)

    def jsapi_ticket(self):
        """The corp jsapi_ticket that signs ww.config (preVerifyJSAPI)."""
        return self._cache.get(self._key("jsapi_ticket"),
                               lambda: self._fetch_ticket("/cgi-bin/get_jsapi_ticket", {}))

    def agent_ticket(self):
        """The app's ticket that signs ww.agentConfig."""
        return self._cache.get(self._key("agent_ticket"),
                               lambda: self._fetch_ticket("/cgi-bin/ticket/get", {"type": "agent_config"}))

    def forget_ticket(self, kind):
        """Drop the cached `corp` or `agent` ticket (WeCom refused a signature made with it): the next
        signature fetches a new one."""
        self._cache.drop(self._key({"corp": "jsapi_ticket", "agent": "agent_ticket"}[kind]))

    def _key(self, name):
        """Cache key: one corp/app's values never stand in for another's."""
        return f"{self.corp_id}:{self.agent_id}:{name}"

    def _fetch_token(self):
        """gettoken -> (token, expires_in)."""
        data = self._request("GET", "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret})
        return data["access_token"], data.get("expires_in", 7200)

    def _fetch_ticket(self, path, params):
        """A JS-SDK ticket -> (ticket, expires_in)."""
        data = self.call("GET", path, params)
        return data["ticket"], data.get("expires_in", 7200)

    # --- calls ----------------------------------------------------------------------------

    def call(self, method, path, params=None, json=None, files=None):
        """Call an API that needs the access token; refresh a rejected token once and retry once."""
        token = self.access_token()
        try:
            return self._request(method, path, {**(params or {}), "access_token": token}, json, files)
        except WeComError as exc:
            if exc.errcode not in (errors.TOKEN_INVALID, errors.TOKEN_EXPIRED):
                raise
            self._cache.drop(self._key("access_token"), token)
        token = self.access_token()
        return self._request(method, path, {**(params or {}), "access_token": token}, json, files)

    def _request(self, method, path, params, json=None, files=None):
        """One API call with -1 retried and 45009/45033 answered by a pause, never a loop."""
        self._check_paused(path)
        delay = BUSY_BACKOFF
        for attempt in range(BUSY_RETRIES + 1):
            try:
                data = self._send(method, path, params, json, files)
            except WeComUnavailable:
                self._pause(path, self.outage_pause)
                raise
            errcode = data.get("errcode", 0)
            if errcode == 0:
                self._failed_at = 0.0
                return data
            if errcode == errors.BUSY and attempt < BUSY_RETRIES:
                self._sleep(delay)
                delay *= 2
                continue
            if errcode in errors.RATE_LIMITED:
                self._pause(path)
            elif errcode == errors.BUSY:
                self._pause(path, self.outage_pause)
            raise WeComError(errcode, data.get("errmsg", ""))
        raise AssertionError("unreachable")

    def _send(self, method, path, params, json, files):
        """The HTTP exchange; transport failures and non-JSON answers become WeComUnavailable."""
        try:
            response = self._http.request(method, self.api_base + path, params=params, json=json,
                                          files=files, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise WeComUnavailable(f"{path}: {type(exc).__name__}") from None

    def _pause(self, path, seconds=None):
        """Remember that WeCom asked us to slow down on this path (or failed on it): a storm is never sent."""
        with self._lock:
            self._failed_at = time.time()
            pause = self.rate_limit_pause if seconds is None else seconds
            if pause:
                self._paused_until[path] = time.time() + pause

    def in_trouble(self):
        """Whether a recent call failed for WeCom's reasons and none has worked since (pages say so)."""
        return bool(self._failed_at) and time.time() - self._failed_at < TROUBLE_MEMORY

    def _check_paused(self, path):
        """Fail fast instead of calling a path WeCom asked us to leave alone for now."""
        until = self._paused_until.get(path, 0)
        if until > time.time():
            raise RateLimited(f"{path}: rate limited, paused for {int(until - time.time())} s", until - time.time())

    def pause_remaining(self):
        """Seconds until every path WeCom rate-limited may be called again (0 when none is paused)."""
        with self._lock:
            return max([until - time.time() for until in self._paused_until.values()] + [0])

    # --- OAuth -------------------------------------------------------------------------------

    def authorize_url(self, redirect_uri, state):
        """Where to send an unauthenticated advisor (snsapi_base: silent inside WeCom)."""
        query = urlencode({"appid": self.corp_id, "redirect_uri": redirect_uri, "response_type": "code",
                           "scope": "snsapi_base", "state": state, "agentid": self.agent_id})
        return f"{self.oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    # --- the API calls the app uses --------------------------------------------------------

    def get_user_info(self, code):
        """OAuth code -> the member's userid; refuses non-members."""
        data = self.call("GET", "/cgi-bin/auth/getuserinfo", {"code": code})
        userid = data.get("userid") or data.get("UserId")  # older answers capitalise it
        if not userid:  # an openid or external_userid: not a member of this corp
            raise WeComError(40029, "not a member of this corp")
        return userid

    def get_user(self, userid):
        """A member's profile: userid, name, department[], position."""
        return self.call("GET", "/cgi-bin/user/get", {"userid": userid})

    def get_external_contact(self, external_userid):
        """A contact with every follow_user entry (follows the cursor across pages)."""
        data = self.call("GET", "/cgi-bin/externalcontact/get", {"external_userid": external_userid})
        follows = list(data.get("follow_user", []))
        while data.get("next_cursor"):
            data = self.call("GET", "/cgi-bin/externalcontact/get",
                             {"external_userid": external_userid, "cursor": data["next_cursor"]})
            follows.extend(data.get("follow_user", []))
        return {"external_contact": data["external_contact"], "follow_user": follows}

    def get_group_chat(self, chat_id):
        """A customer group with its members and admins."""
        return self.call("POST", "/cgi-bin/externalcontact/groupchat/get",
                         json={"chat_id": chat_id, "need_name": 1})["group_chat"]

    # --- bulk reads and tags (full sync, tag push) ----------------------------------------

    def get_follow_user_list(self):
        """Userids of the members configured for customer contact."""
        return list(self.call("GET", "/cgi-bin/externalcontact/get_follow_user_list").get("follow_user", []))

    def batch_get_by_user(self, userids, cursor="", limit=100):
        """One page of the members' contacts: ([{external_contact, follow_info}], next_cursor)."""
        data = self.call("POST", "/cgi-bin/externalcontact/batch/get_by_user",
                         json={"userid_list": list(userids), "cursor": cursor or "", "limit": limit})
        return data.get("external_contact_list", []), data.get("next_cursor", "")

    def list_group_chats(self, cursor="", limit=1000):
        """One page of customer groups: ([{chat_id, status}], next_cursor)."""
        data = self.call("POST", "/cgi-bin/externalcontact/groupchat/list",
                         json={"status_filter": 0, "cursor": cursor or "", "limit": limit})
        return data.get("group_chat_list", []), data.get("next_cursor", "")

    def get_corp_tag_list(self, group_ids=(), tag_ids=()):
        """Corp tag groups with their tags (all of them when no filter is given)."""
        body = {"group_id": list(group_ids), "tag_id": list(tag_ids)}
        return self.call("POST", "/cgi-bin/externalcontact/get_corp_tag_list", json=body).get("tag_group", [])

    def add_corp_tags(self, names, group_name="", group_id=""):
        """Create corp tags in a group found by id, else by name (created when new); returns the tag_group."""
        body = {"tag": [{"name": name} for name in names]}
        body.update({"group_id": group_id} if group_id else {"group_name": group_name})
        return self.call("POST", "/cgi-bin/externalcontact/add_corp_tag", json=body)["tag_group"]

    def mark_tag(self, userid, external_userid, add=(), remove=()):
        """Add and remove corp tags on one member's relation to a contact (WeCom sends no callback)."""
        self.call("POST", "/cgi-bin/externalcontact/mark_tag",
                  json={"userid": userid, "external_userid": external_userid,
                        "add_tag": list(add), "remove_tag": list(remove)})

    def remark(self, userid, external_userid, **fields):
        """Change remark, description or remark_mobiles of one member's relation to a contact (only those given)."""
        self.call("POST", "/cgi-bin/externalcontact/remark",
                  json={"userid": userid, "external_userid": external_userid, **fields})

    def upload_media(self, kind, filename, data, content_type):
        """Temporary media (image, video or file) -> its media_id, which WeCom keeps for 3 days."""
        answer = self.call("POST", "/cgi-bin/media/upload", {"type": kind},
                           files={"media": (filename, data, content_type)})
        return answer["media_id"]

    def send_text_message(self, touser, content):
        """An app message (message/send) to one member, from our app."""
        return self.call("POST", "/cgi-bin/message/send",
                         json={"touser": touser, "msgtype": "text", "agentid": int(self.agent_id),
                               "text": {"content": content}})

    # --- the organisation and WeCom's service statistics (branch management) ---------------

    def list_departments(self, department_id=None):
        """The department tree (that department and all below it, or the whole corp): [{id, name, parentid, order}]."""
        params = {} if department_id is None else {"id": department_id}
        return list(self.call("GET", "/cgi-bin/department/list", params).get("department", []))

    def get_user_behavior_data(self, userids, start_time, end_time):
        """Daily service statistics of the members together (one aggregate per day): [{stat_time, chat_cnt, …}]."""
        return list(self.call("POST", "/cgi-bin/externalcontact/get_user_behavior_data",
                              json={"userid": list(userids), "start_time": start_time,
                                    "end_time": end_time}).get("behavior_data", []))

    def group_chat_statistic(self, owners, day_begin_time, day_end_time, offset=0, limit=1000):
        """Customer-group statistics per owner over the days: [{owner, data{new_chat_cnt, …}}]."""
        return list(self.call("POST", "/cgi-bin/externalcontact/groupchat/statistic",
                              json={"day_begin_time": day_begin_time, "day_end_time": day_end_time,
                                    "owner_filter": {"userid_list": list(owners)}, "order_by": 1,
                                    "order_asc": 0, "offset": offset, "limit": limit}).get("items", []))

    def send_textcard_message(self, touser, title, description, url, button="详情"):
        """An app message as a text card (message/send textcard): a title, a few lines and a link to open."""
        return self.call("POST", "/cgi-bin/message/send",
                         json={"touser": touser, "msgtype": "textcard", "agentid": int(self.agent_id),
                               "textcard": {"title": title, "description": description, "url": url,
                                            "btntxt": button}})

    # --- enterprise mass send (客户群发, wecom.md §5) ----------------------------------------

    def add_msg_template(self, sender, chat_type, targets, text="", attachments=()):
        """A mass-send task the sender confirms in WeCom: chat_type `single` (external_userids) or `group`
        (chat_ids) -> (msgid, fail_list of the targets WeCom refused)."""
        body = {"chat_type": chat_type, "sender": sender, "attachments": list(attachments)}
        body["external_userid" if chat_type == "single" else "chat_id_list"] = list(targets)
        if text:
            body["text"] = {"content": text}
        data = self.call("POST", "/cgi-bin/externalcontact/add_msg_template", json=body)
        return data["msgid"], list(data.get("fail_list", []))

    def get_groupmsg_task(self, msgid, cursor="", limit=1000):
        """One page of a mass send's members: ([{userid, status (0 not sent, 2 sent), send_time}], next_cursor)."""
        data = self.call("POST", "/cgi-bin/externalcontact/get_groupmsg_task",
                         json={"msgid": msgid, "limit": limit, "cursor": cursor or ""})
        return data.get("task_list", []), data.get("next_cursor", "")

    def get_groupmsg_send_result(self, msgid, userid, cursor="", limit=1000):
        """One page of what a member's part of a mass send reached: ([{external_userid | chat_id, status
        (0 not sent, 1 sent, 2 not a friend, 3 already received a 群发), send_time}], next_cursor)."""
        data = self.call("POST", "/cgi-bin/externalcontact/get_groupmsg_send_result",
                         json={"msgid": msgid, "userid": userid, "limit": limit, "cursor": cursor or ""})
        return data.get("send_list", []), data.get("next_cursor", "")

    def remind_groupmsg_send(self, msgid):
        """Remind the members who have not confirmed a mass send (at most 3 times in 24 hours)."""
        self.call("POST", "/cgi-bin/externalcontact/remind_groupmsg_send", json={"msgid": msgid})

    def cancel_groupmsg_send(self, msgid):
        """Stop a mass send: what was not confirmed yet is never sent."""
        self.call("POST", "/cgi-bin/externalcontact/cancel_groupmsg_send", json={"msgid": msgid})

    # --- acquisition: contact-me and group join codes, the welcome on add --------------------

    def add_contact_way(self, userids, state, remark=""):
        """A contact-me QR code (scene 2) for one member (type 1) or several (type 2) -> (config_id, qr_code)."""
        body = {"type": 1 if len(userids) == 1 else 2, "scene": 2, "remark": remark[:30], "skip_verify": True,
                "state": state, "user": list(userids)}
        data = self.call("POST", "/cgi-bin/externalcontact/add_contact_way", json=body)
        return data["config_id"], data.get("qr_code", "")

    def update_contact_way(self, config_id, userids, state, remark=""):
        """Change who a contact-me code adds (its type stays what it was made with)."""
        self.call("POST", "/cgi-bin/externalcontact/update_contact_way",
                  json={"config_id": config_id, "remark": remark[:30], "skip_verify": True, "state": state,
                        "user": list(userids)})

    def del_contact_way(self, config_id):
        """Retire a contact-me code: scanning it adds no one any more."""
        self.call("POST", "/cgi-bin/externalcontact/del_contact_way", json={"config_id": config_id})

    def add_join_way(self, chat_ids, state, remark="", room_base_name=""):
        """A group join QR code for up to five groups (a new one made when the last is full) -> (config_id, qr_code)."""
        body = {"scene": 2, "remark": remark[:30], "auto_create_room": 1, "room_base_name": room_base_name[:40],
                "room_base_id": 1, "chat_id_list": list(chat_ids), "state": state}
        config_id = self.call("POST", "/cgi-bin/externalcontact/groupchat/add_join_way", json=body)["config_id"]
        way = self.call("POST", "/cgi-bin/externalcontact/groupchat/get_join_way", json={"config_id": config_id})
        return config_id, way["join_way"].get("qr_code", "")

    def update_join_way(self, config_id, chat_ids, state, remark="", room_base_name=""):
        """Change the groups of a join code."""
        self.call("POST", "/cgi-bin/externalcontact/groupchat/update_join_way",
                  json={"config_id": config_id, "scene": 2, "remark": remark[:30], "auto_create_room": 1,
                        "room_base_name": room_base_name[:40], "room_base_id": 1, "chat_id_list": list(chat_ids),
                        "state": state})

    def del_join_way(self, config_id):
        """Retire a group join code."""
        self.call("POST", "/cgi-bin/externalcontact/groupchat/del_join_way", json={"config_id": config_id})

    def send_welcome_msg(self, welcome_code, text="", attachments=()):
        """The welcome of a new contact, with the WelcomeCode of its add_external_contact callback (20 s, once)."""
        body = {"welcome_code": welcome_code, "attachments": list(attachments)}
        if text:
            body["text"] = {"content": text}
        self.call("POST", "/cgi-bin/externalcontact/send_welcome_msg", json=body)

    def download_image(self, url):
        """The bytes and content type of an image WeCom gave a URL for (a code's qr_code)."""
        try:
            response = self._http.get(url, timeout=self.timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise WeComUnavailable(f"image: {type(exc).__name__}") from None
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        if not kind.startswith("image/"):
            raise WeComUnavailable("image: not an image")
        return response.content, kind
