// Inline editing of one field (templates/campaigns/_field.html and _field_edit.html): the
// form takes the keyboard focus when it opens, Escape cancels it, and after Save or Cancel
// the focus goes back to the field's edit button, where the person was.
(function () {
  "use strict";
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const form = event.target.closest && event.target.closest("form.inline-edit");
    if (!form) return;
    event.preventDefault();
    form.querySelector("button.cancel").click();
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    const form = target.querySelector("form.inline-edit");
    if (form) {
      const field = form.querySelector("[name=value]");
      if (field) {
        field.focus();
        if (!form.querySelector(".error") && field.select) field.select();
      }
      return;
    }
    const from = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (from && from.closest && from.closest("form.inline-edit")) {
      const edit = target.querySelector("button[data-edit]");
      if (edit) edit.focus();
    }
  });
})();
