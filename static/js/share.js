// One-tap sharing from the material library: the server checks and prepares the message, the
// page hands it to ww.sendChatMessage, then reports what happened. A blocked share shows the
// server's reason; nothing is sent.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: new URLSearchParams(fields || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function show(item, text, state) {
    var box = item.querySelector(".share-status");
    box.textContent = text;
    box.dataset.state = state;
  }

  function errorText(error) {
    return String((error && (error.errMsg || error.err_msg || error.message)) || error || "");
  }

  // The SOP's 发送 (sop.js, loaded after this file) posts and reads errors the same way.
  window.sidebarShare = { post: post, errorText: errorText };

  function resultOf(error) {
    return /cancel/i.test(errorText(error)) ? "cancelled" : "failed";
  }

  // The disclaimer of a product poster, file, video or mini-program card goes right after it.
  function sendAll(message, followUp) {
    return ww.sendChatMessage(message).then(function () {
      if (!followUp) { return true; }
      return ww.sendChatMessage(followUp).then(function () { return true; }, function () { return false; });
    });
  }

  function deliver(item, answer) {
    var data = answer.data;
    return sendAll(data.message, data.follow_up).then(function (disclaimerSent) {
      show(item, disclaimerSent ? "已发送" : "已发送，风险提示未发送，请手动补充", "sent");
      return post(data.report_url, { result: "sent" });
    }, function (error) {
      var result = resultOf(error);
      show(item, result === "cancelled" ? "已取消发送" : "发送失败：" + errorText(error), result);
      return post(data.report_url, { result: result });
    });
  }

  // The server's words for a refusal (sidebar/web.py answers errors as {"error", "detail"}), and
  // the page's own notice when no answer came: no copies of them here.
  function refusal(answer) {
    var data = answer.data;
    return [data.error || "发送失败（" + answer.status + "）", data.detail].filter(Boolean).join("：");
  }

  function offline() {
    var notice = document.getElementById("offline-notice");
    return notice ? notice.content.querySelector(".notice-title").textContent : "";
  }

  // While the share is prepared and sent the button is disabled and busy: one tap, one share.
  function share(button) {
    var item = button.closest(".material");
    if (typeof ww === "undefined") {
      show(item, "请在企业微信聊天的侧边栏中发送", "error");
      return;
    }
    // Sent to this chat within a day: the first tap asks, the second sends.
    if (button.dataset.askAgain && !button.dataset.confirmed) {
      button.dataset.confirmed = "1";
      button.textContent = "再发一次";
      show(item, button.dataset.askAgain, "pending");
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    show(item, "正在准备…", "pending");
    post(button.dataset.shareUrl, { target: button.dataset.target }).then(function (answer) {
      if (answer.status === 200) { return deliver(item, answer); }
      if (answer.status === 403 && answer.data.blocked) {
        var others = (answer.data.alternatives || []).map(function (alt) { return alt.title; });
        show(item, "已拦截：" + answer.data.blocked + (others.length ? "。同类可发：" + others.join("、") : ""), "blocked");
        return null;
      }
      show(item, refusal(answer), "error");
      return null;
    }).catch(function () {
      show(item, offline(), "error");
    }).finally(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  // One-to-one from a group: the server picks and checks the group's clients this advisor follows and
  // may send to; the advisor confirms one shareToExternalContact to them all; every share is reported.
  function reportAll(shares, result) {
    return Promise.all(shares.map(function (s) { return post(s.report_url, { result: result }); }));
  }

  function sendDirect(button) {
    var item = button.closest(".material");
    if (typeof ww === "undefined") {
      show(item, "请在企业微信聊天的侧边栏中发送", "error");
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    show(item, "正在挑选适合的客户…", "pending");
    post(button.dataset.directUrl, { target: button.dataset.target }).then(function (answer) {
      if (answer.status !== 200) {
        show(item, refusal(answer), "error");
        return null;
      }
      var data = answer.data;
      var count = data.shares.length;
      return ww.shareToExternalContact(data.payload).then(function () {
        show(item, "已提交单独发送给 " + count + " 位客户" + (data.skipped ? "（" + data.skipped + " 位不适合，未发送）" : ""), "sent");
        return reportAll(data.shares, "sent");
      }, function (error) {
        var result = resultOf(error);
        show(item, result === "cancelled" ? "已取消发送" : "发送失败：" + errorText(error), result);
        return reportAll(data.shares, result);
      });
    }).catch(function () {
      show(item, offline(), "error");
    }).finally(function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".share-button, .alt-share");  // an alternative offered beside a block
    if (button && !button.disabled) { share(button); }
    var direct = event.target.closest(".direct-button");
    if (direct && !direct.disabled) { sendDirect(direct); }
  });
})();
