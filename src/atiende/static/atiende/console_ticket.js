// The console's ticket page: presence heartbeat, canned replies inserted at the cursor, and
// drafts that survive a reload. The page works without any of it.
(() => {
  "use strict";

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- Who else is here, and did messages arrive? -------------------------------------------
  function startPresence(box) {
    const every = (Number(box.dataset.beat) || 20) * 1000;
    async function beat() {
      const body = new FormData();
      body.append("seen", box.dataset.seen || "0");
      try {
        const response = await fetch(box.dataset.url, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken() },
          redirect: "error", // a logged-out session answers with the login page: ignore it
        });
        if (!response.ok) return;
        box.dataset.touched = response.headers.get("X-Presence-Touched") || box.dataset.touched || "";
        box.innerHTML = await response.text();
      } catch (_) { /* offline or logged out: the next beat tries again */ }
    }
    window.setInterval(beat, every);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) beat(); });
    window.addEventListener("pagehide", () => {
      if (!box.dataset.leaveUrl || !navigator.sendBeacon) return;
      const body = new FormData();
      body.append("csrfmiddlewaretoken", csrfToken());
      // The time of this page's last touch: when the next page is this ticket again, it has
      // touched since (the browser sends this only after it loaded), and the agent stays.
      body.append("touched", box.dataset.touched || "");
      navigator.sendBeacon(box.dataset.leaveUrl, body);
    });
  }

  // --- Canned replies: fetch the filled text, insert it where the cursor is ------------------
  function insertAtCursor(area, text) {
    const touched = area.dataset.touched === "1";
    const start = touched ? area.selectionStart : area.value.length;
    const end = touched ? area.selectionEnd : area.value.length;
    area.setRangeText(text, start, end, "end");
    area.focus();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function startCanned(form) {
    const area = document.getElementById(form.dataset.target);
    const select = form.querySelector("select");
    if (!area || !select) return;
    area.addEventListener("focus", () => { area.dataset.touched = "1"; });
    form.addEventListener("submit", async (event) => {
      const option = select.selectedOptions[0];
      if (!option || !option.dataset.url) return; // plain GET: the page comes back filled in
      event.preventDefault();
      try {
        const response = await fetch(option.dataset.url, { credentials: "same-origin", redirect: "error" });
        if (!response.ok) throw new Error(String(response.status));
        insertAtCursor(area, await response.text());
      } catch (_) {
        form.submit();
      }
    });
  }

  // --- Drafts: kept in this tab while the agent writes, so a reload loses nothing ------------
  function startDraft(area, reference) {
    const key = `atiende:draft:${reference}:${area.name}`;
    try {
      const saved = window.sessionStorage.getItem(key);
      if (saved && !area.value) area.value = saved;
      area.addEventListener("input", () => window.sessionStorage.setItem(key, area.value));
      if (area.form) area.form.addEventListener("submit", () => window.sessionStorage.removeItem(key));
    } catch (_) { /* storage disabled: no drafts */ }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("presence");
    if (box && box.dataset.url) startPresence(box);
    document.querySelectorAll("form[data-canned]").forEach(startCanned);
    const layout = document.querySelector("[data-reference]");
    const reference = layout ? layout.dataset.reference : "";
    if (reference) document.querySelectorAll("textarea[data-draft]").forEach((area) => startDraft(area, reference));
  });
})();
