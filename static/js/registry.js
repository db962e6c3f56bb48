/* Progressive enhancement only: every page works without this file. Served by the app (no inline script). */
(function () {
  "use strict";

  // "Copy" buttons: <button data-copy-target="id-of-element-with-text" hidden>. Shown only when the clipboard works.
  function setUpCopyButtons(root) {
    if (!navigator.clipboard) {
      return;
    }
    root.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      button.hidden = false;
      if (button.dataset.copyReady) {
        return;
      }
      button.dataset.copyReady = "1";
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyTarget);
        if (!source) {
          return;
        }
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          var status = document.getElementById(button.dataset.copyStatus);
          if (status) {
            status.textContent = "Copied to the clipboard.";
          }
        });
      });
    });
  }

  // Filter forms marked data-autosubmit submit themselves when a select or checkbox changes (htmx does the
  // request when it is loaded; otherwise a normal submit).
  function setUpAutoSubmit(root) {
    root.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      if (form.dataset.autosubmitReady) {
        return;
      }
      form.dataset.autosubmitReady = "1";
      form.addEventListener("change", function (event) {
        if (event.target.matches("select, input[type=checkbox], input[type=radio]")) {
          form.requestSubmit();
        }
      });
    });
  }

  function setUp(root) {
    setUpCopyButtons(root);
    setUpAutoSubmit(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    setUp(event.target);
  });
})();
