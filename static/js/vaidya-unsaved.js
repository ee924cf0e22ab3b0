// Typed input is never lost without a warning. Inside an element marked data-unsaved-guard
// (the visit editor), a form someone has typed into is "unsaved" until it is saved: a note
// beside its button says so (inline, so it never covers a button), and leaving the page asks
// first. A form htmx swapped out after a successful save is gone from the page, and with it
// its unsaved mark.
(function () {
  "use strict";
  var NOTE_CLASS = "unsaved-note";

  function guardedForm(element) {
    var form = element && element.closest ? element.closest("form") : null;
    return form && form.closest("[data-unsaved-guard]") ? form : null;
  }

  function dirtyForms() {
    return document.querySelectorAll("[data-unsaved-guard] form[data-unsaved]");
  }

  function showState() {
    document.querySelectorAll("[data-unsaved-guard] form").forEach(function (form) {
      var note = form.querySelector("." + NOTE_CLASS);
      var unsaved = form.hasAttribute("data-unsaved");
      if (!note && unsaved) {
        var button = form.querySelector("button[type=submit]");
        note = document.createElement("span");
        note.className = NOTE_CLASS;
        note.setAttribute("role", "status");
        note.textContent = "Not saved yet";
        if (button) {
          button.insertAdjacentElement("afterend", note);
        } else {
          form.appendChild(note);
        }
      }
      if (note) {
        note.hidden = !unsaved;
      }
    });
  }

  function markTyped(event) {
    var form = guardedForm(event.target);
    if (form && !form.hasAttribute("data-unsaved")) {
      form.setAttribute("data-unsaved", "");
      showState();
    }
  }

  document.addEventListener("input", markTyped);
  document.addEventListener("change", markTyped);

  // A form sent without htmx leaves the page on purpose: no question.
  document.addEventListener("submit", function (event) {
    var form = guardedForm(event.target);
    if (form && !form.hasAttribute("hx-post")) {
      form.removeAttribute("data-unsaved");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = guardedForm(event.detail.elt);
    if (form && event.detail.successful && form.isConnected) {
      // Saved but not swapped away (the answer replaced another part of the page).
      form.removeAttribute("data-unsaved");
    }
    showState();
  });
  document.addEventListener("htmx:afterSettle", showState);

  window.addEventListener("beforeunload", function (event) {
    if (dirtyForms().length > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
