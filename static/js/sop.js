// SOP in the sidebar: 发送 prepares the task's messages on the server (each through the library's
// compliance gate), sends them one by one with ww.sendChatMessage and reports each result; the
// server marks the task done when all were sent. 跳过 posts the chosen reason. In the 工作台 a
// chat's button opens that chat in WeCom.
(function () {
  "use strict";

  // share.js (loaded first): the same POST with the CSRF token and JSON back, the same error text
  var post = window.sidebarShare.post;
  var errorText = window.sidebarShare.errorText;

  function show(item, text, state) {
    var box = item.querySelector(".sop-status");
    box.textContent = text;
    box.dataset.state = state;
  }

  // One message after the other, each reported; the first that is not sent stops the rest.
  function sendInTurn(shares, index) {
    if (index >= shares.length) { return Promise.resolve("sent"); }
    var share = shares[index];
    return ww.sendChatMessage(share.message).then(function () {
      var followUp = share.follow_up ? ww.sendChatMessage(share.follow_up).catch(function () { return null; })
        : Promise.resolve();
      return followUp.then(function () { return post(share.report_url, { result: "sent" }); })
        .then(function () { return sendInTurn(shares, index + 1); });
    }, function (error) {
      var result = /cancel/i.test(errorText(error)) ? "cancelled" : "failed";
      return post(share.report_url, { result: result }).then(function () { return result; });
    });
  }

  function send(button) {
    var item = button.closest(".sop-task");
    if (typeof ww === "undefined") {
      show(item, "请在企业微信聊天的侧边栏中发送", "error");
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    show(item, "正在准备…", "pending");
    post(button.dataset.url).then(function (answer) {
      if (answer.status === 403 && answer.data.blocked) {
        show(item, "已拦截：" + answer.data.blocked, "blocked");
        item.dataset.done = "true";  // blocked is final: the alternatives below are sent one by one
        if (answer.data.alternatives_url) {
          htmx.ajax("GET", answer.data.alternatives_url, { target: item.querySelector(".sop-alternatives") });
        }
        return null;
      }
      if (answer.status !== 200) {
        show(item, answer.data.error || answer.data.detail || "发送失败（" + answer.status + "）", "error");
        return null;
      }
      return sendInTurn(answer.data.shares, 0).then(function (result) {
        if (result === "sent") {
          show(item, "已发送，任务完成", "sent");
          item.dataset.done = "true";
        } else {
          show(item, result === "cancelled" ? "已取消发送" : "发送失败，请重试", result);
        }
      });
    }).catch(function () {
      show(item, "网络异常，请稍后重试", "error");
    }).finally(function () {
      if (item.dataset.done !== "true") { button.disabled = false; }
      button.removeAttribute("aria-busy");
    });
  }

  function skip(form) {
    var item = form.closest(".sop-task");
    post(form.action, { reason: form.elements.reason.value }).then(function (answer) {
      if (answer.status === 200) {
        show(item, "已跳过：" + form.elements.reason.value, "skipped");
        item.querySelector(".sop-send").disabled = true;
        form.closest("details").open = false;
      } else {
        show(item, answer.data.error || "未能跳过（" + answer.status + "）", "error");
      }
    });
  }

  function openChat(button) {
    if (typeof ww === "undefined") { return; }
    var opened = button.dataset.kind === "group"
      ? ww.openExistedChatWithMsg({ chatId: button.dataset.chatId })
      : ww.openEnterpriseChat({ externalUserIds: button.dataset.chatId, groupName: "" });
    Promise.resolve(opened).catch(function (error) {
      button.closest(".sop-chat").querySelector("p").dataset.error = errorText(error);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".sop-send");
    if (button && !button.disabled) { send(button); return; }
    var open = event.target.closest(".sop-open-chat");
    if (open) { openChat(open); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest(".sop-skip-form");
    if (form) {
      event.preventDefault();
      skip(form);
    }
  });
})();
