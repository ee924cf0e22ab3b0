// The "Print" button of the print-ready pages (prescription, visit summary). A file rather
// than an inline handler, because the Content-Security-Policy allows only this site's scripts.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
