"""Client addresses as the app keeps them: never whole, and IPv4 clients of a dual-stack listener as IPv4."""
import ipaddress
import re

IPV4_NETWORK, IPV6_NETWORK = 24, 48  # what a log or a tracked open keeps: an office, a site
IPV6_SUBSCRIBER = 64  # the block one IPv6 client gets: who a rate limit counts
# a secret in the path: a tracked link (/r/<token>, /r/<token>/cover), a TV's pairing link
TOKEN_IN_PATH = re.compile(r"^/(r|manage/wall/pair)/[^/?]+")


def client_ip(address):
    """The address as an ipaddress object, or None; an IPv4-mapped IPv6 address (::ffff:1.2.3.4, how a
    listener on :: sees IPv4 clients) becomes the IPv4 address it carries."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    return (ip.ipv4_mapped or ip) if ip.version == 6 else ip


def network_of(address):
    """The client's network, never the whole address: IPv4 /24, IPv6 /48 (None when unparsable)."""
    return _prefix(address, IPV4_NETWORK, IPV6_NETWORK)


def client_of(address):
    """Who a rate limit counts: the IPv4 address, or the IPv6 /64 (one client can use any address in it)."""
    return _prefix(address, 32, IPV6_SUBSCRIBER)


def _prefix(address, v4, v6):
    """The address's network of the given prefix length for its version, as text."""
    ip = client_ip(address)
    if ip is None:
        return None
    return str(ipaddress.ip_network(f"{ip}/{v4 if ip.version == 4 else v6}", strict=False))


def logged_path(path):
    """A request's path as a log keeps it: no query string (access tokens, OAuth codes, search words), and
    /r/… for a tracked link (its token opens the client's copy), /manage/wall/pair/… for a TV's link."""
    return TOKEN_IN_PATH.sub(lambda found: f"/{found.group(1)}/…", (path or "").split("?", 1)[0])
