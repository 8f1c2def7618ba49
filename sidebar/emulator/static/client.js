/*
 * The simulated WeCom desktop client (the emulator's /client page).
 *
 * Answers the JSAPI calls that bridge.js relays from the sidebar iframe the way the WeCom client
 * does: config/agentConfig signatures are checked by the emulator server against its tickets, the
 * chat APIs need a successful agentConfig of the current document, and sendChatMessage shows the
 * message in the chat and reports it to the server. State for browser tests is on <body>:
 * data-chat, data-entry, data-agent-config (pending | ok | fail).
 */
(function () {
  "use strict";

  var body = document.body;
  var config = body.dataset;
  var frame = document.getElementById("sidebar-frame");
  var messages = document.getElementById("messages");
  var cancelBox = document.getElementById("cancel-send");
  var CHAT_APIS = ["getContext", "getCurExternalContact", "getCurExternalChat", "sendChatMessage",
    "openExistedChatWithMsg", "openEnterpriseChat", "shareToExternalContact"];
  var STATUS_TEXT = {pending: "JS-SDK 等待注册", ok: "agentConfig 已通过", fail: "agentConfig 失败"};
  var NO_CONTEXT = "without context of external contact";

  // What the sidebar document now loaded has proven; a new document starts over.
  var session = {chat: config.chat, entry: config.entry, doc: null, freshDoc: false, jsApiList: []};
  var retiredDocs = {};  // documents the iframe has left: their late calls go unanswered
  var transcripts = {};

  // -- answers in WeCom's shape ---------------------------------------------------------

  function ok(name, fields) {
    return Object.assign({err_msg: name + ":ok"}, fields || {});
  }

  function fail(name, reason) {
    return {err_msg: name + ":fail_" + reason};
  }

  function postJSON(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(data)
    }).then(function (response) { return response.json(); });
  }

  function verifySignature(name, fields) {
    return postJSON(config.verifyUrl, fields).then(function (answer) {
      return answer.ok ? ok(name) : fail(name, answer.errmsg || "invalid signature");
    });
  }

  var handlers = {
    preVerifyJSAPI: function (p, call) {
      return verifySignature("preVerifyJSAPI", {
        type: "corp", url: call.url, corpid: p.verifyAppId, timestamp: p.verifyTimestamp,
        nonceStr: p.verifyNonceStr, signature: p.verifySignature
      });
    },
    agentConfig: function (p, call) {
      return verifySignature("agentConfig", {
        type: "agent", url: call.url, corpid: p.corpid, agentid: p.agentid, timestamp: p.timestamp,
        nonceStr: p.nonceStr, signature: p.signature
      }).then(function (result) {
        if (call.doc === session.doc) {
          session.jsApiList = [].concat(p.jsApiList || []);
          setAgentConfig(/:ok$/.test(result.err_msg) ? "ok" : "fail");
        }
        return result;
      });
    },
    getContext: function (p, call) {
      return ok("getContext", {entry: call.entry, shareTicket: ""});
    },
    getCurExternalContact: function (p, call) {
      if (call.entry !== "single_chat_tools") {
        return fail("getCurExternalContact", NO_CONTEXT);
      }
      return ok("getCurExternalContact", {userId: call.chat.slice("contact:".length)});
    },
    getCurExternalChat: function (p, call) {
      if (call.entry !== "group_chat_tools") {
        return fail("getCurExternalChat", NO_CONTEXT);
      }
      return ok("getCurExternalChat", {chatId: call.chat.slice("group:".length)});
    },
    sendChatMessage: sendChatMessage,
    shareToExternalContact: shareToExternalContact,
    // The 工作台's buttons: the simulated client switches to that chat, as WeCom opens it.
    openExistedChatWithMsg: function (p) {
      if (!p.chatId) {
        return fail("openExistedChatWithMsg", "invalid chatId");
      }
      switchChat("group:" + p.chatId);
      return ok("openExistedChatWithMsg");
    },
    openEnterpriseChat: function (p) {
      var ids = String(p.externalUserIds || "").split(";").filter(Boolean);
      if (ids.length !== 1 || p.userIds) {
        return fail("openEnterpriseChat", "only a 1:1 chat with one external contact is simulated");
      }
      switchChat("contact:" + ids[0]);
      return ok("openEnterpriseChat");
    }
  };

  function switchChat(chat) {
    setTimeout(function () {
      window.location.href = window.location.pathname + "?userid=" + encodeURIComponent(config.userid) +
        "&chat=" + encodeURIComponent(chat);
    }, 0);
  }

  // WeCom grants the chat APIs only to a document that passed agentConfig and listed them.
  function permitted(name, call) {
    if (CHAT_APIS.indexOf(name) < 0) {
      return true;
    }
    return call.doc === session.doc && body.dataset.agentConfig === "ok" && session.jsApiList.indexOf(name) >= 0;
  }

  function answer(message) {
    var call = {doc: message.doc, url: message.url, chat: session.chat, entry: session.entry};
    var handler = handlers[message.name];
    if (!handler) {
      return Promise.resolve(fail(message.name, "not support"));
    }
    if (!permitted(message.name, call)) {
      return Promise.resolve(fail(message.name, "no permission"));
    }
    return Promise.resolve()
      .then(function () { return handler(message.params || {}, call); })
      .catch(function (error) { return fail(message.name, String(error && error.message || error)); });
  }

  function onBridgeMessage(event) {
    var message = event.data;
    if (event.source !== frame.contentWindow || !message || message.source !== "wecom-bridge" ||
        retiredDocs[message.doc]) {
      return;
    }
    if (message.doc !== session.doc) {
      startDocument(message.doc);
    }
    answer(message).then(function (result) {
      logCall(message.name, result);
      event.source.postMessage({source: "wecom-client", id: message.id, doc: message.doc, result: result}, "*");
    });
  }

  function startDocument(doc) {
    if (session.doc) {
      retiredDocs[session.doc] = true;
    }
    session.doc = doc;
    session.freshDoc = doc !== null;
    session.jsApiList = [];
    setAgentConfig("pending");
  }

  // A loaded document that never spoke to the bridge has no agentConfig either.
  function onFrameLoad() {
    if (!session.freshDoc) {
      startDocument(null);
    }
    session.freshDoc = false;
  }

  function setAgentConfig(status) {
    body.dataset.agentConfig = status;
    document.getElementById("sdk-status").textContent = STATUS_TEXT[status];
  }

  function logCall(name, result) {
    var list = document.getElementById("bridge-log");
    var item = document.createElement("li");
    item.textContent = new Date().toLocaleTimeString("zh-CN") + "  " + result.err_msg;
    item.className = /:ok$/.test(result.err_msg) ? "is-ok" : "is-fail";
    list.insertBefore(item, list.firstChild);
    document.getElementById("bridge-count").textContent = list.children.length;
  }

  // -- sendChatMessage ------------------------------------------------------------------

  function sendChatMessage(p, call) {
    if (call.entry === "normal") {
      return fail("sendChatMessage", NO_CONTEXT);
    }
    if (cancelBox.checked) {
      addNote(call.chat, "已取消发送（模拟客户取消）", false);
      return {err_msg: "sendChatMessage:cancel"};
    }
    var payload = {msgtype: p.msgtype};
    payload[p.msgtype] = p[p.msgtype];
    return postJSON(config.messagesUrl, {userid: config.userid, chat: call.chat, message: payload})
      .then(function (reply) {
        if (!reply.ok) {
          addNote(call.chat, "发送失败：" + reply.errmsg, true);
          return fail("sendChatMessage", reply.errmsg);
        }
        addEntry(call.chat, {message: reply.message});
        return ok("sendChatMessage");
      });
  }

  // -- shareToExternalContact: the advisor confirms, each chosen client's chat receives the message --

  // The attachments as chat messages (a link attachment is a news card in the chat).
  function massMessages(p) {
    var list = [];
    if (p.text && p.text.content) {
      list.push({msgtype: "text", text: {content: p.text.content}});
    }
    (p.attachments || []).forEach(function (a) {
      if (a.msgtype === "link") {
        list.push({msgtype: "news", news: {link: a.link.url, title: a.link.title, desc: a.link.desc || "",
          imgUrl: a.link.imgUrl || ""}});
      } else {
        var m = {msgtype: a.msgtype};
        m[a.msgtype] = a[a.msgtype];
        list.push(m);
      }
    });
    return list;
  }

  function confirmMassSend(ids, messages) {
    var dialog = document.getElementById("mass-send");
    document.getElementById("mass-send-count").textContent = ids.length;
    document.getElementById("mass-send-summary").textContent = messages.map(function (m) {
      var part = m[m.msgtype] || {};
      return part.title || part.content || m.msgtype;
    }).join(" + ");
    dialog.showModal();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue === "send"); }, {once: true});
    });
  }

  function shareToExternalContact(p) {
    var ids = [].concat(p.externalUserIds || []);
    var messages = massMessages(p);
    if (!ids.length || !messages.length) {
      return fail("shareToExternalContact", "invalid args");
    }
    return confirmMassSend(ids, messages).then(function (confirmed) {
      if (!confirmed) {
        addNote(session.chat, "已取消群发（顾问未确认）", false);
        return {err_msg: "shareToExternalContact:cancel"};
      }
      return Promise.all(ids.map(function (id) {
        return Promise.all(messages.map(function (m) {
          return postJSON(config.messagesUrl, {userid: config.userid, chat: "contact:" + id, message: m});
        }));
      })).then(function (replies) {
        var refused = [].concat.apply([], replies).filter(function (r) { return !r.ok; });
        if (refused.length) {
          addNote(session.chat, "群发失败：" + refused[0].errmsg, true);
          return fail("shareToExternalContact", refused[0].errmsg);
        }
        replies.forEach(function (list, i) {
          list.forEach(function (r) { addEntry("contact:" + ids[i], {message: r.message}); });
        });
        addNote(session.chat, "已单独发送给 " + ids.length + " 位客户", false);
        return ok("shareToExternalContact");
      });
    });
  }

  // -- the chat transcript --------------------------------------------------------------

  function addEntry(chat, entry) {
    (transcripts[chat] = transcripts[chat] || []).push(entry);
    if (chat === session.chat) {
      renderTranscript();
    }
  }

  function addNote(chat, text, isError) {
    addEntry(chat, {note: text, isError: isError});
  }

  function renderTranscript() {
    var entries = transcripts[session.chat] || [];
    messages.textContent = "";
    if (!entries.length) {
      messages.appendChild(el("p", "messages-empty",
        "这里显示侧边栏在本次会话中发送到此聊天的消息。\n在右侧侧边栏点击“发送”试试。"));
      return;
    }
    entries.forEach(function (entry) {
      messages.appendChild(entry.note ? el("div", "system-note" + (entry.isError ? " is-error" : ""), entry.note)
        : renderMessage(entry.message));
    });
    messages.scrollTop = messages.scrollHeight;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text != null) {
      node.textContent = text;
    }
    return node;
  }

  function img(className, src) {
    var node = el("img", className);
    node.src = src || "";
    node.alt = "";
    return node;
  }

  function renderMessage(record) {
    var row = el("div", "message is-mine");
    var msgtype = record.message.msgtype;
    row.dataset.chat = record.chat;
    row.dataset.msgtype = msgtype;
    row.appendChild(img("avatar", config.userAvatar));
    var bubble = (bubbles[msgtype] || bubbles.text)(record.message);
    bubble.classList.add("bubble", "bubble-" + msgtype);
    row.appendChild(bubble);
    return row;
  }

  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function mediaFoot(media, label) {
    var foot = el("div", "bubble-foot");
    foot.appendChild(el("span", null, label + " · " + sizeText(media.size)));
    foot.appendChild(el("code", "media-id", media.media_id));
    return foot;
  }

  function fileCard(media, label, iconClass) {
    var card = el("div", "bubble-card");
    var main = el("div", "bubble-body");
    var ext = (media.filename.split(".").pop() || label).slice(0, 4).toUpperCase();
    main.appendChild(el("div", "file-icon " + iconClass, ext));
    main.appendChild(el("div", "bubble-title", media.filename || label));
    card.appendChild(main);
    card.appendChild(mediaFoot(media, label));
    return card;
  }

  var bubbles = {
    text: function (message) {
      return el("div", null, message.text ? message.text.content : JSON.stringify(message));
    },
    image: function (message) {
      var card = el("div", "bubble-card media-image");
      card.appendChild(img(null, config.mediaUrl.replace("MEDIA_ID", encodeURIComponent(message.media.media_id))));
      card.appendChild(mediaFoot(message.media, "图片"));
      return card;
    },
    video: function (message) { return fileCard(message.media, "视频", "is-video"); },
    file: function (message) { return fileCard(message.media, "文件", ""); },
    news: function (message) {
      var news = message.news;
      var card = el("a", "bubble-card");
      card.href = news.link;
      card.target = "_blank";
      card.rel = "noopener noreferrer";
      var main = el("div", "bubble-body");
      var text = el("div");
      text.appendChild(el("div", "bubble-title", news.title));
      text.appendChild(el("p", "bubble-desc", news.desc));
      main.appendChild(text);
      if (news.imgUrl) {
        main.appendChild(img("bubble-thumb", news.imgUrl));
      }
      card.appendChild(main);
      card.appendChild(el("div", "bubble-foot", news.link));
      return card;
    },
    miniprogram: function (message) {
      var mp = message.miniprogram;
      var card = el("div", "bubble-card");
      card.appendChild(el("div", "mp-head", "小程序 · " + mp.appid));
      card.appendChild(el("div", "mp-title bubble-title", mp.title));
      card.appendChild(img("mp-cover", mp.imgUrl));
      card.appendChild(el("div", "bubble-foot", "◎ 小程序  " + mp.page));
      return card;
    }
  };

  // -- choosing a chat, loading the sidebar ---------------------------------------------

  function openChat(item) {
    document.querySelectorAll(".chat-item.is-active").forEach(function (node) { node.classList.remove("is-active"); });
    item.classList.add("is-active");
    session.chat = body.dataset.chat = item.dataset.chat;
    session.entry = body.dataset.entry = item.dataset.entry;
    document.getElementById("chat-title").textContent = item.dataset.name;
    document.getElementById("chat-subtitle").textContent = item.dataset.subtitle;
    history.replaceState(null, "", item.href);
    renderTranscript();
    loadSidebar();
  }

  // WeCom loads the toolbar page afresh for every chat.
  function loadSidebar() {
    startDocument(null);
    frame.src = config.sidebarUrl;
  }

  function onChatClick(event) {
    var item = event.target.closest(".chat-item");
    if (!item || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    openChat(item);
  }

  function filterChats() {
    var words = document.getElementById("chat-filter").value.trim();
    document.querySelectorAll(".chat-item").forEach(function (item) {
      item.hidden = words !== "" && item.dataset.name.indexOf(words) < 0;
    });
  }

  // A new load of the client is a fresh WeCom login: end the sidebar's old session first.
  function endSidebarSession() {
    if (!config.logoutUrl) {
      return Promise.resolve();
    }
    return fetch(config.sidebarUrl, {redirect: "manual", credentials: "include"})
      .then(function (response) { return response.status === 200 ? response.text() : ""; })
      .then(function (html) {
        var meta = html && new DOMParser().parseFromString(html, "text/html").querySelector('meta[name="csrf-token"]');
        if (!meta) {
          return null;
        }
        return fetch(config.logoutUrl, {
          method: "POST", credentials: "include", headers: {"X-CSRFToken": meta.content}
        });
      })
      .catch(function (error) { console.warn("[wecom emulator] logout before login failed", error); });
  }

  window.addEventListener("message", onBridgeMessage);
  frame.addEventListener("load", onFrameLoad);
  document.getElementById("chat-list").addEventListener("click", onChatClick);
  document.getElementById("chat-filter").addEventListener("input", filterChats);
  renderTranscript();
  endSidebarSession().then(loadSidebar);
})();
