// Live validation for the item editor: posts the draft to the validate page and shows the rule
// engine's findings beside each field. The page works the same without this script.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form || !form.dataset.validate) { return; }
  var timer = null;
  var severity = { error: "错误", warning: "警告", info: "提示" };

  function clear() {
    form.querySelectorAll("[data-findings-for]").forEach(function (box) { box.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
  }

  function line(f, withPlace) {
    var p = document.createElement(withPlace ? "li" : "p");
    p.className = withPlace ? "finding-" + f.severity : "finding finding-" + f.severity;
    var sev = document.createElement("span");
    sev.className = "sev";
    sev.textContent = severity[f.severity] || "";
    p.appendChild(sev);
    if (withPlace) {
      var place = f.target ? document.createElement("a") : document.createElement("span");
      if (f.target) { place.href = "#" + f.target; }
      place.textContent = f.where;
      p.appendChild(place);
      p.appendChild(document.createTextNode("：" + f.text));
    } else {
      p.appendChild(document.createTextNode(f.text));
    }
    return p;
  }

  function show(result) {
    clear();
    result.findings.forEach(function (f) {
      if (!f.target) { return; }
      var box = document.getElementById(f.target + "-findings");
      if (box) { box.appendChild(line(f, false)); }
      var control = document.getElementById(f.target);
      if (control && f.severity === "error") {
        control.setAttribute("aria-invalid", "true");
        var wrapper = control.closest(".field");
        if (wrapper) { wrapper.classList.add("has-error"); }
      }
    });
    var summary = document.querySelector("[data-summary]");
    if (summary) {
      summary.querySelector("[data-count=errors]").textContent = result.errors;
      summary.querySelector("[data-count=warnings]").textContent = result.warnings;
      var list = summary.querySelector("ul");
      list.textContent = "";
      result.findings.forEach(function (f) { list.appendChild(line(f, true)); });
    }
  }

  function validate() {
    var data = new FormData(form);
    data.delete("op");
    fetch(form.dataset.validate, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-XSRFToken": data.get("_xsrf") }
    }).then(function (response) {
      if (response.ok) { return response.json().then(show); }
    }).catch(function () { /* the server's findings come back on save anyway */ });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(validate, 400);
  });
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(validate, 100);
  });
})();
