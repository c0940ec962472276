// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // Language selector: submit on change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // A second click on a submit button while the first request is on its way sends nothing.
  // (The server is idempotent anyway: each form carries a one-time submission key.)
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.submitting === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
      form.querySelectorAll("button[type=submit]").forEach((b) => b.setAttribute("aria-disabled", "true"));
    });
  });
  // Copy buttons (the ticket ID on the confirmation page).
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = button.dataset.copied || button.textContent;
      } catch (_) { /* clipboard refused: the ID stays selectable */ }
    });
  });
  // Confirmation before destructive actions (closing a ticket).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        // Cancelled: the form may be sent again, so its buttons are enabled again too.
        form.dataset.submitting = "";
        form.querySelectorAll("button[type=submit]").forEach((b) => b.removeAttribute("aria-disabled"));
      }
    });
  });
});
