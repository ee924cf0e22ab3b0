// Forms that ask "are you sure?" first: <form data-confirm="Disconnect WhatsApp?">. A file
// rather than an inline onsubmit handler, because the Content-Security-Policy allows only this
// site's own scripts (an inline handler would be blocked and the form sent without asking).
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
