// Marketplace web interface: progressive enhancement only. Every page works without this file
// (forms submit with GET/POST, links are links); it adds conveniences:
//  - filters submit themselves when a choice is picked (with the keyboard: on Enter), and search
//    URLs leave out empty fields;
//  - "/" focuses the search box;
//  - copy buttons next to identifiers, checksums and command lines;
//  - a filter box over the endorsers table;
//  - the filters fold away on narrow screens; the current section is marked in the menu.
// No inline script, no eval, no third-party code (the Content-Security-Policy allows none).
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  // GET forms: the URL of a submission without empty fields and defaults.
  function cleanUrl(form) {
    // A form without action submits to its own page (not to the <base href>).
    var action = form.getAttribute("action");
    var url = action ? new URL(action, document.baseURI) : new URL(window.location.href);
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      var value = el.value;
      if (value === "" || value === el.getAttribute("data-default")) return;
      params.append(el.name, value);
    });
    var query = params.toString();
    url.search = query ? "?" + query : "";
    return url.toString();
  }

  function enhanceForms() {
    var forms = document.querySelectorAll("form[data-autosubmit]");
    Array.prototype.forEach.call(forms, function (form) {
      var method = (form.getAttribute("method") || "get").toLowerCase();
      if (method === "get") {
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          window.location.assign(cleanUrl(form));
        });
      }
      var submit = function () {
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit();
        } else {
          form.submit();
        }
      };
      // A choice made with the mouse (or touch) submits at once. One made with the keyboard
      // (arrows step through the options, each firing "change") waits for Enter or the
      // form's button, so that keyboard users are not sent away while they browse the list.
      form.addEventListener("keydown", function (event) {
        var target = event.target;
        if (!target || target.tagName !== "SELECT") return;
        if (event.key === "Enter") {
          event.preventDefault();
          submit();
        } else if (event.key !== "Tab" && event.key !== "Shift") {
          target.setAttribute("data-keyed", "");
        }
      });
      form.addEventListener("change", function (event) {
        var target = event.target;
        if (target && target.tagName === "SELECT" && !target.hasAttribute("data-keyed")) {
          submit();
        }
      });
    });
  }

  function focusShortcut() {
    var box = document.getElementById("q");
    if (!box) return;
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var active = document.activeElement;
      var tag = active ? active.tagName : "";
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (active && active.isContentEditable)) return;
      event.preventDefault();
      box.focus();
      box.select();
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error("copy failed"));
    });
  }

  function copyButtons() {
    var items = document.querySelectorAll(".copyable");
    Array.prototype.forEach.call(items, function (el) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      var what = el.closest(".command") ? "command" : "value";
      button.setAttribute("aria-label", "Copy the " + what);
      button.addEventListener("click", function () {
        copyText(el.textContent).then(function () {
          button.textContent = "Copied";
        }, function () {
          button.textContent = "Select and copy";
        });
        window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
      var pre = el.closest("pre");
      if (pre) {
        pre.appendChild(button);
      } else {
        el.insertAdjacentElement("afterend", button);
      }
    });
  }

  function tableFilters() {
    var tools = document.querySelectorAll("[data-filter-for]");
    Array.prototype.forEach.call(tools, function (box) {
      var table = document.getElementById(box.getAttribute("data-filter-for"));
      var input = box.querySelector("input");
      if (!table || !input) return;
      box.hidden = false;
      var rows = table.tBodies[0] ? table.tBodies[0].rows : [];
      var status = document.createElement("p");
      status.className = "muted small";
      status.setAttribute("role", "status");
      box.appendChild(status);
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        var shown = 0;
        Array.prototype.forEach.call(rows, function (row) {
          var match = !needle || row.textContent.toLowerCase().indexOf(needle) !== -1;
          row.hidden = !match;
          if (match) shown += 1;
        });
        status.textContent = needle ? shown + " of " + rows.length + " shown" : "";
      });
    });
  }

  function foldFilters() {
    if (!window.matchMedia || !window.matchMedia("(max-width: 56rem)").matches) return;
    var boxes = document.querySelectorAll("details[data-collapse-narrow]");
    Array.prototype.forEach.call(boxes, function (d) { d.open = false; });
  }

  function markCurrent() {
    var base = new URL(document.baseURI);
    var path = window.location.pathname;
    var links = document.querySelectorAll(".site-nav a");
    Array.prototype.forEach.call(links, function (a) {
      var target = new URL(a.getAttribute("href"), base).pathname;
      var section = target.replace(/\/+$/, "");
      if (path === section || path.indexOf(section + "/") === 0 ||
          (section.slice(-9) === "/metadata" && path.indexOf(section.slice(0, -9) + "/images/") === 0)) {
        a.setAttribute("aria-current", "page");
      }
    });
  }

  ready(function () {
    enhanceForms();
    focusShortcut();
    copyButtons();
    tableFilters();
    foldFilters();
    markCurrent();
  });
})();
