"""The emulated corp's data: staff, external contacts, follow relations, groups and tags."""
import hashlib
import random
import secrets
import string
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass, field


class WorldError(Exception):
    """A change or lookup the world refuses; carries the WeCom errcode for it."""

    errcode = -1


class UnknownStaff(WorldError):
    errcode = 60111


class UnknownExternal(WorldError):
    errcode = 40096


class NotContact(WorldError):
    errcode = 84061


class UnknownGroup(WorldError):
    errcode = 40050


class UnknownTag(WorldError):
    errcode = 40068


class DuplicateTag(WorldError):
    errcode = 40071


@dataclass
class Department:
    id: int
    name: str
    parentid: int


@dataclass
class Staff:
    userid: str
    name: str
    department: list
    position: str
    gender: int  # 1 male, 2 female, as WeCom
    mobile: str
    role: str  # advisor, manager, compliance or content: seed meaning, not a WeCom field
    customer_contact: bool  # configured to use customer contact (客户联系)


@dataclass
class External:
    external_userid: str
    name: str
    type: int  # 1 WeChat user, 2 WeCom user of another corp
    gender: int
    unionid: str = ""
    corp_name: str = ""
    corp_full_name: str = ""
    position: str = ""


@dataclass
class Follow:
    userid: str
    external_userid: str
    remark: str = ""
    description: str = ""
    createtime: int = 0
    tag_ids: list = field(default_factory=list)
    personal_tags: list = field(default_factory=list)  # [[group_name, tag_name]]
    remark_mobiles: list = field(default_factory=list)
    add_way: int = 0
    state: str = ""
    oper_userid: str = ""


@dataclass
class Member:
    userid: str
    type: int  # 1 staff, 2 external
    join_time: int
    join_scene: int  # 1 invited, 2 link, 3 QR code
    invitor: str = ""
    group_nickname: str = ""
    state: str = ""  # the join code's state, when they came in through one


@dataclass
class Group:
    chat_id: str
    name: str
    owner: str
    create_time: int
    notice: str = ""
    members: list = field(default_factory=list)
    admins: list = field(default_factory=list)
    status: int = 0


@dataclass
class Tag:
    id: str
    name: str
    order: int
    create_time: int


@dataclass
class TagGroup:
    group_id: str
    name: str
    order: int
    create_time: int
    tags: list = field(default_factory=list)


class World:
    """Everything WeCom knows about the corp; every method is safe to call from any thread.

    Each change method tells the listeners what WeCom would call back about it: a dict of the
    callback's fields (Event, ChangeType, UserID, ...). Changes made through the server API
    (mark_tag, add_corp_tag) pass notify=False: WeCom sends no callback for those.
    """

    def __init__(self, corp_name, rng=None):
        self.corp_name = corp_name
        # Re-entrant: the emulator holds it around whole requests that call these methods.
        self.lock = threading.RLock()
        self.departments = {}
        self.staff = {}
        self.externals = {}
        self.follows = {}  # (userid, external_userid) -> Follow, in the order they were added
        self.groups = {}
        self.tag_groups = {}
        self.listeners = []  # called with each change's callback fields, under the lock
        self._rng = rng or random.Random()
        # indexes over follows, in the order relations were added (20,000-contact worlds stay fast)
        self._by_user = defaultdict(dict)
        self._by_contact = defaultdict(dict)

    def new_id(self, prefix, length=26):
        """A fresh WeCom-looking id (`wm…` contact, `wr…` chat, `et…` tag)."""
        alphabet = string.ascii_letters + string.digits
        with self.lock:
            while True:
                value = prefix + "".join(self._rng.choice(alphabet) for _ in range(length)) + "AAAA"
                if not self._id_taken(value):
                    return value

    def _id_taken(self, value):
        """Whether any contact, group, tag group or tag already uses this id."""
        tag_ids = {tag.id for group in self.tag_groups.values() for tag in group.tags}
        return value in self.externals or value in self.groups or value in self.tag_groups or value in tag_ids

    # -- lookups --------------------------------------------------------------------------

    def staff_member(self, userid):
        """The staff member with this userid, or UnknownStaff."""
        with self.lock:
            if userid not in self.staff:
                raise UnknownStaff(userid)
            return self.staff[userid]

    def external(self, external_userid):
        """The external user (contact or group-only prospect) with this id, or UnknownExternal."""
        with self.lock:
            if external_userid not in self.externals:
                raise UnknownExternal(external_userid)
            return self.externals[external_userid]

    def group(self, chat_id):
        """The external group chat with this id, or UnknownGroup."""
        with self.lock:
            if chat_id not in self.groups:
                raise UnknownGroup(chat_id)
            return self.groups[chat_id]

    def follow(self, userid, external_userid):
        """The follow relation of a member and a contact, or NotContact."""
        with self.lock:
            self.staff_member(userid)
            self.external(external_userid)
            relation = self.follows.get((userid, external_userid))
            if relation is None:
                raise NotContact(f"{userid} does not follow {external_userid}")
            return relation

    def follow_users(self):
        """Userids of the members configured for customer contact."""
        with self.lock:
            return [s.userid for s in self.staff.values() if s.customer_contact]

    def advisors(self):
        """Staff members who have at least one external contact."""
        with self.lock:
            followers = {userid for userid, _ in self.follows}
            return [s for s in self.staff.values() if s.userid in followers]

    def contacts_of(self, userid):
        """External userids a member follows, in the order they were added."""
        with self.lock:
            return list(self._by_user.get(userid, ()))

    def followers_of(self, external_userid):
        """The follow relations of one external contact."""
        with self.lock:
            return [self.follows[(uid, external_userid)] for uid in self._by_contact.get(external_userid, ())]

    def contacts(self):
        """External users followed by at least one member."""
        with self.lock:
            return [e for e in self.externals.values() if self._by_contact.get(e.external_userid)]

    def prospects(self):
        """External users known only from groups: nobody follows them."""
        with self.lock:
            return [e for e in self.externals.values() if not self._by_contact.get(e.external_userid)]

    def groups_of(self, userid):
        """Groups the staff member is in (as owner, admin or member)."""
        with self.lock:
            return [g for g in self.groups.values() if any(m.userid == userid for m in g.members)]

    def tag(self, tag_id):
        """(TagGroup, Tag) for a corp tag id, or UnknownTag."""
        with self.lock:
            for group in self.tag_groups.values():
                for tag in group.tags:
                    if tag.id == tag_id:
                        return group, tag
            raise UnknownTag(tag_id)

    def display_name(self, userid):
        """The name to show for a staff userid or an external userid ('' if unknown)."""
        with self.lock:
            person = self.staff.get(userid) or self.externals.get(userid)
            return person.name if person else ""

    @staticmethod
    def member_version(group):
        """A digest that changes whenever the member list changes, like WeCom's member_version."""
        ids = ",".join(sorted(m.userid for m in group.members))
        return hashlib.md5(ids.encode()).hexdigest()

    # -- changes: each tells the listeners the callback WeCom sends about it ---------------

    def _notify(self, event, **fields):
        """Tell the listeners about a change (the caller holds the lock, so the order is the world's)."""
        change = {"Event": event, **{name: value for name, value in fields.items() if value is not None}}
        for listener in list(self.listeners):
            listener(change)

    def _contact_changed(self, change_type, relation, **extra):
        """A change_external_contact callback about one relation."""
        self._notify("change_external_contact", ChangeType=change_type, UserID=relation.userid,
                     ExternalUserID=relation.external_userid, **extra)

    def _chat_changed(self, chat_id, change_type, detail=None, **extra):
        """A change_external_chat callback about one group."""
        self._notify("change_external_chat", ChatId=chat_id, ChangeType=change_type, UpdateDetail=detail, **extra)

    def add_department(self, department):
        """Add or replace a department."""
        with self.lock:
            self.departments[department.id] = department

    def add_staff(self, member):
        """Add or replace a staff member."""
        with self.lock:
            self.staff[member.userid] = member

    def add_external(self, person):
        """Add or replace an external user (not yet anyone's contact)."""
        with self.lock:
            self.externals[person.external_userid] = person

    def add_follow(self, relation, notify=True):
        """Make a member follow an external user (replaces an existing relation)."""
        with self.lock:
            self.staff_member(relation.userid)
            self.external(relation.external_userid)
            for tag_id in relation.tag_ids:
                self.tag(tag_id)
            key = (relation.userid, relation.external_userid)
            existed = key in self.follows
            self.follows[key] = relation
            self._by_user[relation.userid][relation.external_userid] = None
            self._by_contact[relation.external_userid][relation.userid] = None
            if notify:
                if existed:
                    self._contact_changed("edit_external_contact", relation)
                else:
                    self._contact_changed("add_external_contact", relation, State=relation.state or "",
                                          WelcomeCode=secrets.token_urlsafe(24))
            return relation

    def remove_follow(self, userid, external_userid, by="advisor"):
        """End a follow relation: the member deleted the contact (by advisor) or the contact deleted them."""
        if by not in ("advisor", "client"):
            raise ValueError("by must be advisor or client")
        with self.lock:
            self.follow(userid, external_userid)
            relation = self.follows.pop((userid, external_userid))
            self._by_user[userid].pop(external_userid, None)
            self._by_contact[external_userid].pop(userid, None)
            self._contact_changed("del_external_contact" if by == "advisor" else "del_follow_user", relation)
            return relation

    def edit_follow(self, userid, external_userid, **changes):
        """Change remark, description or remark_mobiles of a follow relation."""
        allowed = {"remark", "description", "remark_mobiles"}
        if set(changes) - allowed:
            raise ValueError(f"only {sorted(allowed)} can be edited")
        with self.lock:
            relation = self.follow(userid, external_userid)
            for name, value in changes.items():
                setattr(relation, name, value)
            self._contact_changed("edit_external_contact", relation)
            return relation

    def mark_tag(self, userid, external_userid, add=(), remove=(), notify=True):
        """Add and remove corp tags on a follow relation; unknown tags change nothing."""
        with self.lock:
            relation = self.follow(userid, external_userid)
            for tag_id in [*add, *remove]:
                self.tag(tag_id)
            removed = set(remove)
            kept = [t for t in relation.tag_ids if t not in removed]
            relation.tag_ids = kept + [t for t in dict.fromkeys(add) if t not in kept]
            if notify:
                self._contact_changed("edit_external_contact", relation)
            return relation

    def add_corp_tags(self, names, group_name="", group_id="", now=0, notify=True):
        """Create corp tags in a group found by id or name (a new group if the name is new)."""
        with self.lock:
            group = self._tag_group_for(group_name, group_id, now)
            existing = {tag.name for tag in group.tags}
            duplicates = [name for name in names if name in existing]
            if duplicates or len(set(names)) != len(names):
                raise DuplicateTag(", ".join(duplicates) or "repeated name")
            created = [Tag(self.new_id("et"), name, 0, int(now)) for name in names]
            group.tags.extend(created)
            for tag in created if notify else ():
                self._notify("change_external_tag", Id=tag.id, TagType="tag", ChangeType="create")
            return group, created

    def rename_tag(self, tag_id, name):
        """An admin renamed a corp tag."""
        with self.lock:
            group, tag = self.tag(tag_id)
            if any(t.name == name and t.id != tag_id for t in group.tags):
                raise DuplicateTag(name)
            tag.name = name
            self._notify("change_external_tag", Id=tag_id, TagType="tag", ChangeType="update")
            return tag

    def delete_tag(self, tag_id):
        """An admin deleted a corp tag: it leaves every relation that carried it (one callback, no others)."""
        with self.lock:
            group, tag = self.tag(tag_id)
            group.tags.remove(tag)
            for relation in self.follows.values():
                if tag_id in relation.tag_ids:
                    relation.tag_ids = [t for t in relation.tag_ids if t != tag_id]
            self._notify("change_external_tag", Id=tag_id, TagType="tag", ChangeType="delete")
            return tag

    def _tag_group_for(self, group_name, group_id, now):
        """The tag group to add to: by id, else by name, else a new one."""
        if group_id:
            if group_id not in self.tag_groups:
                raise UnknownTag(group_id)
            return self.tag_groups[group_id]
        for group in self.tag_groups.values():
            if group.name == group_name:
                return group
        group = TagGroup(self.new_id("et"), group_name, 0, int(now))
        self.tag_groups[group.group_id] = group
        return group

    def add_group(self, group):
        """Add a new external group chat."""
        with self.lock:
            self.staff_member(group.owner)
            self.groups[group.chat_id] = group
            self._chat_changed(group.chat_id, "create")
            return group

    def dismiss_group(self, chat_id):
        """The owner dismissed the group."""
        with self.lock:
            self.group(chat_id)
            group = self.groups.pop(chat_id)
            self._chat_changed(chat_id, "dismiss")
            return group

    def add_group_member(self, chat_id, member):
        """Someone joined a group (staff or external user)."""
        with self.lock:
            group = self.group(chat_id)
            if member.type == 1:
                self.staff_member(member.userid)
            else:
                self.external(member.userid)
            group.members = [m for m in group.members if m.userid != member.userid] + [member]
            self._chat_changed(chat_id, "update", "add_member", JoinScene=member.join_scene, MemChangeCnt=1,
                               MemChangeList=[member.userid])
            return group

    def remove_group_member(self, chat_id, userid):
        """Someone left a group (or was removed); the owner cannot leave."""
        with self.lock:
            group = self.group(chat_id)
            if userid == group.owner:
                raise ValueError("the owner cannot leave; change the owner first")
            if not any(m.userid == userid for m in group.members):
                raise ValueError(f"{userid} is not in the group")
            group.members = [m for m in group.members if m.userid != userid]
            group.admins = [a for a in group.admins if a != userid]
            self._chat_changed(chat_id, "update", "del_member", QuitScene=0, MemChangeCnt=1, MemChangeList=[userid])
            return group

    def rename_group(self, chat_id, name):
        """Change a group's name."""
        with self.lock:
            group = self.group(chat_id)
            group.name = name
            self._chat_changed(chat_id, "update", "change_name")
            return group

    def set_group_notice(self, chat_id, notice):
        """Change a group's notice (群公告)."""
        with self.lock:
            group = self.group(chat_id)
            group.notice = notice
            self._chat_changed(chat_id, "update", "change_notice")
            return group

    def change_group_owner(self, chat_id, userid):
        """Hand a group to another staff member who is already in it."""
        with self.lock:
            group = self.group(chat_id)
            if not any(m.userid == userid and m.type == 1 for m in group.members):
                raise ValueError("the new owner must be a staff member of the group")
            group.owner = userid
            group.admins = [a for a in group.admins if a != userid]
            self._chat_changed(chat_id, "update", "change_owner")
            return group

    def add_synthetic_contacts(self, count, now, userids=None):
        """Add `count` generated contacts spread over the advisors (no callbacks): a big world for load tests."""
        with self.lock:
            userids = userids or [member.userid for member in self.advisors()]
            for userid in userids:
                self.staff_member(userid)
            level_tags = [tag.id for group in list(self.tag_groups.values())[:1] for tag in group.tags]
            first = sum(1 for ext in self.externals if ext.startswith("wmSynthetic"))
            for number in range(first, first + count):
                person = External(f"wmSynthetic{number:010d}", f"测试客户{number:05d}", 1, 1 + number % 2,
                                  f"oSynthetic{number:017d}")
                self.externals[person.external_userid] = person
                self.add_follow(Follow(
                    userids[number % len(userids)], person.external_userid, f"客户{number:05d}", "",
                    int(now) - number, level_tags[number % len(level_tags):][:1] if level_tags else [],
                    [], [f"139{number:08d}"] if number % 10 == 0 else [], 1, ""), notify=False)
            return count

    # -- export ---------------------------------------------------------------------------

    def as_json(self):
        """The whole world as plain JSON-able data, for tests to compute expectations."""
        with self.lock:
            return {
                "corp_name": self.corp_name,
                "departments": [asdict(d) for d in self.departments.values()],
                "staff": [asdict(s) for s in self.staff.values()],
                "contacts": [asdict(e) for e in self.contacts()],
                "prospects": [asdict(e) for e in self.prospects()],
                "follows": [asdict(f) for f in self.follows.values()],
                "groups": [self._group_json(g) for g in self.groups.values()],
                "tag_groups": [asdict(g) for g in self.tag_groups.values()],
            }

    def _group_json(self, group):
        """One group with its members' names and its member_version."""
        data = asdict(group)
        for member in data["members"]:
            member["name"] = self.display_name(member["userid"])
        data["member_version"] = self.member_version(group)
        return data
