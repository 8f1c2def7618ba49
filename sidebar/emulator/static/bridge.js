/*
 * WeixinJSBridge for development and tests (the WeCom emulator's bridge.js).
 *
 * Load it before the unmodified official @wecom/jssdk. It makes the page look like WeCom's
 * webview (so the SDK takes the agentConfig path exactly as inside WeCom) and relays every
 * JSAPI call to the simulated WeCom client page that frames this page:
 *
 *   page -> parent  {source: "wecom-bridge", id, doc, name, params, url}
 *   parent -> page  {source: "wecom-client", id, doc, result}   result = {err_msg: "<name>:ok", ...}
 *
 * `doc` is random per document load: the client grants agentConfig per document, as WeCom does.
 * Outside the simulated client (no parent frame) every call fails at once with "fail_not in wecom".
 */
(function () {
  "use strict";

  var WECOM_UA = " wxwork/4.1.30";
  var TIMEOUT_MS = 15000;
  var doc = Date.now().toString(36) + Math.random().toString(36).slice(2);
  var pending = {};
  var listeners = {};
  var nextId = 1;

  // The SDK reads the user agent once, when it loads: this must run first.
  function pretendWeComWebview() {
    var agent = navigator.userAgent;
    if (/wxwork\//i.test(agent)) {
      return;
    }
    Object.defineProperty(navigator, "userAgent", {
      configurable: true,
      get: function () { return agent + WECOM_UA; }
    });
  }

  function insideClient() {
    return window.parent && window.parent !== window;
  }

  // postMessage cannot carry the success/fail/complete callbacks the SDK leaves in params.
  function plainData(params) {
    try {
      return JSON.parse(JSON.stringify(params || {}));
    } catch (error) {
      return {};
    }
  }

  function invoke(name, params, callback) {
    var done = typeof callback === "function" ? callback : function () {};
    if (!insideClient()) {
      done({err_msg: name + ":fail_not in wecom"});
      return;
    }
    var id = nextId++;
    var timer = setTimeout(function () {
      settle(id, {err_msg: name + ":fail_no answer from the wecom client"});
    }, TIMEOUT_MS);
    pending[id] = {done: done, timer: timer};
    window.parent.postMessage({
      source: "wecom-bridge", id: id, doc: doc, name: name,
      params: plainData(params), url: location.href.split("#")[0]
    }, "*");
  }

  function settle(id, result) {
    var call = pending[id];
    if (!call) {
      return;
    }
    delete pending[id];
    clearTimeout(call.timer);
    call.done(result);
  }

  function onClientAnswer(event) {
    var data = event.data;
    if (event.source !== window.parent || !data || data.source !== "wecom-client" || data.doc !== doc) {
      return;
    }
    settle(data.id, data.result || {});
  }

  function on(name, callback) {
    (listeners[name] = listeners[name] || []).push(callback);
  }

  pretendWeComWebview();
  window.addEventListener("message", onClientAnswer);
  window.WeixinJSBridge = {invoke: invoke, on: on};
  // Later scripts may wait for the event rather than look for the object.
  setTimeout(function () {
    document.dispatchEvent(new Event("WeixinJSBridgeReady"));
  }, 0);
})();
