// The sidebar shell: register the JS-SDK, learn which chat is open, load its panel with htmx.
// The chat ids read here are hints for navigation only: the server authorises every panel.
(function () {
  "use strict";

  var body = document.body;
  var panel = document.getElementById("panel");
  var CONTEXT_TIMEOUT_MS = 8000;
  var NOT_IN_CHAT = "请从客户聊天或客户群的工具栏打开侧边栏";

  function showNotice(title, detail) {
    var box = document.createElement("div");
    box.className = "notice error";
    box.setAttribute("role", "alert");
    var heading = document.createElement("p");
    heading.className = "notice-title";
    heading.textContent = title;
    box.appendChild(heading);
    if (detail) {
      var more = document.createElement("p");
      more.className = "notice-detail";
      more.textContent = detail;
      box.appendChild(more);
    }
    panel.replaceChildren(box);
  }

  // The shell carries the agent signature for its own URL: the first registration uses it and
  // waits on no request; any other URL, and a registration after a renewal, asks the server.
  var carried = body.dataset.agentSignature ? JSON.parse(body.dataset.agentSignature) : null;

  function signatureFetcher(type) {
    return function (url) {
      if (type === "agent" && carried && url === body.dataset.signedUrl) {
        var signed = carried;
        carried = null;
        return Promise.resolve(signed);
      }
      var query = "?type=" + type + "&url=" + encodeURIComponent(url);
      return fetch(body.dataset.signatureUrl + query, {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw { errMsg: "signature:http " + response.status }; }
        return response.json();
      });
    };
  }

  function messageFor(error) {
    var text = (error && (error.errMsg || error.message)) || String(error);
    if (/invalid signature|permission denied|no permission/i.test(text)) {
      return ["应用身份校验失败", "JS-SDK 签名未通过（" + text + "），请联系管理员检查可信域名与应用配置"];
    }
    if (/signature:http 401/.test(text)) {
      return ["登录已过期", "请关闭并重新打开侧边栏"];
    }
    if (/signature:http/.test(text)) {
      return ["无法获取 JS-SDK 签名", "服务暂时不可用，请稍后重新打开侧边栏"];
    }
    if (/not in wecom|timeout/i.test(text)) {
      return [NOT_IN_CHAT, "未检测到企业微信聊天环境"];
    }
    return ["无法读取当前聊天", text];
  }

  // Two tabs, the chat's panel and the material library, both loaded into #panel: the page URL
  // never changes, so the JS-SDK signature made for it stays valid. The tab is the request's source:
  // its nav's hx-indicator and hx-sync (identity/shell.html) show the wait and drop a stale answer.
  var tabs = document.getElementById("tabs");
  var tabUrls = {};

  function selectTab(name) {
    var source;
    tabs.querySelectorAll("[data-tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
      if (tab.dataset.tab === name) { source = tab; }
    });
    return htmx.ajax("GET", tabUrls[name], { source: source, target: "#panel", swap: "innerHTML" });
  }

  function openPanel(url, target, label) {
    tabUrls.chat = url;
    tabUrls.library = body.dataset.libraryUrl + "?chat=" + encodeURIComponent(target);
    tabs.querySelector('[data-tab="chat"]').textContent = label;
    tabs.hidden = false;
    return selectTab("chat");
  }

  tabs.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-tab]");
    // The chat's tab also brings the chat's panel back after a tap into a group member's panel.
    if (tab && tabUrls[tab.dataset.tab] && (tab.dataset.tab === "chat" || tab.getAttribute("aria-selected") !== "true")) {
      selectTab(tab.dataset.tab);
    }
  });

  function readContext() {
    return ww.getContext().then(function (context) {
      if (context.entry === "single_chat_tools") {
        return ww.getCurExternalContact().then(function (result) {
          return openPanel(body.dataset.contactUrl + encodeURIComponent(result.userId),
            "contact:" + result.userId, "客户");
        });
      }
      if (context.entry === "group_chat_tools") {
        return ww.getCurExternalChat().then(function (result) {
          return openPanel(body.dataset.groupUrl + encodeURIComponent(result.chatId),
            "group:" + result.chatId, "客户群");
        });
      }
      if (context.entry === "normal") {  // opened outside a chat: the advisor's 工作台
        return htmx.ajax("GET", body.dataset.todayUrl, { target: "#panel", swap: "innerHTML" });
      }
      showNotice(NOT_IN_CHAT, "当前入口：" + (context.entry || "未知"));
    });
  }

  // WeCom refused a signature made with our cached ticket (renewed by WeCom, or a new emulator):
  // the server drops that ticket, at most once in a few minutes for everyone, and we register again.
  function renewTicket(error) {
    var type = /^agentConfig/.test(error.errMsg) ? "agent" : "corp";
    var token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(body.dataset.refusedUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
      body: "type=" + type
    });
  }

  function refusedSignature(error) {
    return Boolean(error && /invalid signature/i.test(error.errMsg || ""));
  }

  function openChat() {
    ww.register({
      corpId: body.dataset.corpId,
      agentId: body.dataset.agentId,
      jsApiList: ["getContext", "getCurExternalContact", "getCurExternalChat", "sendChatMessage",
        "openExistedChatWithMsg", "openEnterpriseChat", "shareToExternalContact"],
      getConfigSignature: signatureFetcher("corp"),
      getAgentConfigSignature: signatureFetcher("agent")
    });
    // The SDK runs a failed registration again on the next call: one more try after a renewal.
    return readContext().catch(function (error) {
      if (!refusedSignature(error)) { throw error; }
      return renewTicket(error).then(readContext, function () { throw error; });
    });
  }

  function withTimeout(promise) {
    var timer;
    var timeout = new Promise(function (_, reject) {
      timer = setTimeout(function () { reject({ errMsg: "getContext:timeout" }); }, CONTEXT_TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(function () { clearTimeout(timer); });
  }

  // ww.register starts agentConfig and drops that promise; its failure reaches us again
  // through getContext below, so the SDK's own copy of the rejection is not an error.
  window.addEventListener("unhandledrejection", function (event) {
    if (event.reason && event.reason.errMsg) { event.preventDefault(); }
  });

  if (typeof ww === "undefined") {
    showNotice(NOT_IN_CHAT, "企业微信 JS-SDK 未能加载");
    return;
  }
  withTimeout(openChat()).catch(function (error) {
    var message = messageFor(error);
    showNotice(message[0], message[1]);
  });
})();
