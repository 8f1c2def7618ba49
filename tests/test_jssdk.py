"""JS-SDK signature algorithm, checked against WeCom's official test vector (wecom.md §1)."""
from sidebar.wecom import sign, signature_for

TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"


def test_official_vector():
    assert sign(TICKET, "Wm3WZYTPz0wzccnW", 1414587457,
                "http://mp.weixin.qq.com?params=value") == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_fragment_is_not_signed():
    assert sign(TICKET, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value#x") == \
        "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_signature_for_returns_what_ww_register_expects():
    result = signature_for(TICKET, "http://mp.weixin.qq.com?params=value", now=1414587457)
    assert set(result) == {"timestamp", "nonceStr", "signature"}
    assert result["timestamp"] == 1414587457
    assert result["signature"] == sign(TICKET, result["nonceStr"], 1414587457,
                                       "http://mp.weixin.qq.com?params=value")
    assert signature_for(TICKET, "http://x/")["nonceStr"] != signature_for(TICKET, "http://x/")["nonceStr"]
