/* Handoff workspace: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // ---- SLA countdowns: refresh "due in 25 min" / "overdue 3 h" every 30 s.
  function span(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 1) return "< 1 min";
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (hours < 48) return hours < 4 && rest ? hours + " h " + rest + " min" : hours + " h";
    return Math.floor(hours / 24) + " d";
  }
  function refreshCountdowns(root) {
    var now = Date.now();
    (root || document).querySelectorAll("[data-due]").forEach(function (chip) {
      var delta = new Date(chip.dataset.due).getTime() - now;
      if (isNaN(delta)) return;
      var label = (chip.dataset.label ? chip.dataset.label + " " : "") + (chip.dataset.prefix || "");
      chip.textContent = label + (delta < 0 ? "overdue " + span(delta) : "due in " + span(delta));
      chip.classList.remove("chip-ok", "chip-soon", "chip-overdue");
      chip.classList.add(delta < 0 ? "chip-overdue" : delta < 3600000 ? "chip-soon" : "chip-ok");
    });
  }
  setInterval(refreshCountdowns, 30000);

  // ---- Keyboard shortcuts.
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]") !== null;
  }
  var pendingG = false;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var dialog = document.getElementById("shortcuts");
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var key = event.key, el;
    if (pendingG) {
      pendingG = false;
      el = document.querySelector('[data-go="' + key + '"]');
      if (el) { event.preventDefault(); el.click(); }
      return;
    }
    if (key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1200); return; }
    if (key === "/") {
      el = document.querySelector("[data-global-search]") || document.querySelector("[data-search]");
      if (el) { event.preventDefault(); el.focus(); el.select(); }
    } else if (key === "n") {
      el = document.querySelector('[data-shortcut="n"]');
      if (el) { event.preventDefault(); el.click(); }
    } else if (key === "r") {
      el = document.getElementById("reply-body");
      if (el) { event.preventDefault(); el.scrollIntoView({ block: "center" }); el.focus(); }
    } else if (key === "e") {
      el = document.querySelector('[data-shortcut="e"]');
      if (el) { event.preventDefault(); el.click(); }
    } else if (key === "?") {
      if (dialog && !dialog.open) { event.preventDefault(); dialog.showModal(); }
    }
  });

  function closeMenu() {
    document.body.classList.remove("menu-open");
    var toggle = document.querySelector("[data-menu-toggle]");
    if (toggle) toggle.setAttribute("aria-expanded", "false");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("menu-open")) closeMenu();
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-shortcuts]");
    if (opener) { document.getElementById("shortcuts").showModal(); return; }
    // Narrow screens: the sidebar is a menu the top bar's button opens and closes.
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) {
      var open = document.body.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    if (document.body.classList.contains("menu-open") && !event.target.closest("#sidebar")) closeMenu();
    var dismiss = event.target.closest("[data-dismiss]");
    if (dismiss) { dismiss.parentElement.remove(); return; }
    // Requester lookup: a match fills the requester field.
    var pick = event.target.closest("[data-pick-requester]");
    if (pick) {
      event.preventDefault();
      var input = document.getElementById("id_requester");
      input.value = pick.dataset.pickRequester;
      var chosen = document.getElementById("requester-chosen");
      if (chosen) chosen.textContent = "Selected: " + pick.dataset.name;
      document.getElementById("requester-matches").innerHTML = "";
      var next = document.getElementById("id_category");
      if (next) next.focus();
    }
  });

  // ---- Requester lookup by keyboard: ArrowDown moves into the matches, Up/Down between them,
  // Enter picks (the matches are type=button, so the form is never submitted), Escape goes back.
  document.addEventListener("keydown", function (event) {
    var input = document.getElementById("id_requester");
    var list = document.getElementById("requester-matches");
    if (!input || !list) return;
    var options = Array.prototype.slice.call(list.querySelectorAll("[data-pick-requester]"));
    var index = options.indexOf(document.activeElement);
    if (event.target === input) {
      if (event.key === "ArrowDown" && options.length) { event.preventDefault(); options[0].focus(); }
      else if (event.key === "Enter" && options.length === 1) { event.preventDefault(); options[0].click(); }
      return;
    }
    if (index < 0) return;
    if (event.key === "ArrowDown") { event.preventDefault(); options[Math.min(index + 1, options.length - 1)].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); (index === 0 ? input : options[index - 1]).focus(); }
    else if (event.key === "Escape") { event.preventDefault(); input.focus(); }
  });

  // ---- Knowledge-base suggestions: the endpoint takes ?q= (the description) and ?category=.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt.matches || !elt.matches("[data-kb-suggest]")) return;
    var params = event.detail.parameters;
    var text = elt.value || "";
    var title = document.getElementById("id_title");
    params.q = ((title && title.value) ? title.value + " " : "") + text;
    delete params.description;
    var category = document.getElementById("id_category");
    if (category) params.category = category.value;
  });

  // ---- Reply box: public reply vs internal note look different, so nobody posts a note publicly by mistake.
  document.addEventListener("change", function (event) {
    if (event.target.name === "visibility") {
      var composer = event.target.closest(".composer");
      if (composer) composer.classList.toggle("is-note", event.target.value === "internal");
      var send = composer && composer.querySelector("[data-send-label]");
      if (send) send.textContent = event.target.value === "internal" ? "Add internal note" : "Send reply";
      var publicOnly = composer && composer.querySelector("[data-public-only]");
      if (publicOnly) publicOnly.hidden = event.target.value === "internal";
    }
    if (event.target.matches("input[type=file][data-previews]")) showPreviews(event.target);
  });

  // ---- Attachments: drag and drop onto the box fills the ordinary file input.
  function showPreviews(input) {
    var box = document.getElementById(input.dataset.previews);
    if (!box) return;
    box.innerHTML = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var figure = document.createElement("figure");
      if (file.type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.alt = "";
        img.src = URL.createObjectURL(file);
        figure.appendChild(img);
      }
      var caption = document.createElement("figcaption");
      caption.textContent = file.name;
      figure.appendChild(caption);
      box.appendChild(figure);
    });
  }
  function bindDropzones(root) {
    (root || document).querySelectorAll("[data-dropzone]").forEach(function (zone) {
      if (zone.dataset.bound) return;
      zone.dataset.bound = "1";
      var input = zone.querySelector("input[type=file]");
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("is-over"); });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.remove("is-over"); });
      });
      zone.addEventListener("drop", function (e) {
        if (!input || !e.dataTransfer.files.length) return;
        var transfer = new DataTransfer();
        Array.prototype.forEach.call(input.files, function (f) { transfer.items.add(f); });
        Array.prototype.forEach.call(e.dataTransfer.files, function (f) { transfer.items.add(f); });
        input.files = transfer.files;
        showPreviews(input);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindDropzones();
    var checked = document.querySelector(".composer input[name=visibility]:checked");
    if (checked) checked.dispatchEvent(new Event("change", { bubbles: true }));
    var open = document.querySelector("details.action[data-open]");
    if (open) open.open = true;
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    bindDropzones(event.target);
    refreshCountdowns(event.target);
  });
})();
