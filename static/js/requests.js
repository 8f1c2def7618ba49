// Failed htmx requests, on every page: the server's error fragment (or, when no answer came, the
// page's #offline-notice) is shown in place, in the error slot of the part that asked, and 重试
// repeats that request. Everything else stays as it was, typed text included. The messages are the
// server's (sidebar/web.py, templates/errors/_error.html); none is written here.
(function () {
  "use strict";

  // A part that keeps its content when a request fails has a `.request-error` child; the error of
  // a part without one (the whole panel) replaces its content. htmx's config (base.html) swaps a
  // 4xx/5xx answer's `.notice` with innerHTML; this only picks where.
  function slotOf(target) {
    return target.querySelector(":scope > .request-error") || target;
  }

  function remember(slot, config) {
    slot.failedRequest = { verb: config.verb, path: config.path, elt: config.elt, target: config.target };
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.isError) { return; }
    detail.target = slotOf(detail.target);
    remember(detail.target, detail.requestConfig);
  });

  // No answer at all (offline, or slower than htmx's timeout): the same place, the page's notice.
  function showOffline(event) {
    var config = event.detail.requestConfig;
    var template = document.getElementById("offline-notice");
    if (!config || !config.target || !template) { return; }
    var slot = slotOf(config.target);
    slot.replaceChildren(template.content.cloneNode(true));
    remember(slot, config);
  }
  document.addEventListener("htmx:sendError", showOffline);
  document.addEventListener("htmx:timeout", showOffline);

  // 重试: the failed request again, from the element that made it (its values, indicator, target
  // and swap); a page that was itself the error reloads.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".retry");
    if (!button) { return; }
    var slot = button.parentElement;
    while (slot && !slot.failedRequest) { slot = slot.parentElement; }
    var failed = slot && slot.failedRequest;
    if (!failed) {
      location.reload();
      return;
    }
    slot.failedRequest = null;
    if (slot.classList.contains("request-error")) { slot.replaceChildren(); }
    var source = failed.elt && failed.elt.isConnected ? failed.elt : null;
    htmx.ajax(failed.verb, failed.path, source ? { source: source, target: failed.target }
      : { target: failed.target, swap: "innerHTML" });
  });
})();
