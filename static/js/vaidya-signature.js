// The signature pad of the consent signing page (templates/patients/consent/sign.html).
//
// Wires static/vendor/signature_pad to the form's canvas: sizes the canvas for the screen's
// pixel ratio (a blurry, offset signature otherwise), keeps the drawing when a tablet turns,
// clears it on "Clear the pad", refuses to send an empty pad, and puts the drawing as a PNG
// data: URL in the hidden "signature" field when the form is sent. The server checks the PNG
// again. A file rather than an inline script: the Content-Security-Policy allows only this
// site's scripts.
(function () {
  "use strict";

  function setUpPad(form) {
    var canvas = form.querySelector("canvas[data-signature-pad]");
    var field = form.querySelector("input[name=signature]");
    var clearButton = form.querySelector("[data-signature-clear]");
    var emptyNote = form.querySelector("[data-signature-empty]");
    if (!canvas || !field || typeof window.SignaturePad !== "function") {
      return;
    }
    var pad = new window.SignaturePad(canvas, {
      penColor: "rgb(17, 17, 17)",
      minWidth: 0.8,
      maxWidth: 2.8,
    });

    function resize() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var width = Math.round(canvas.offsetWidth * ratio);
      var height = Math.round(canvas.offsetHeight * ratio);
      if (!width || !height || (canvas.width === width && canvas.height === height)) {
        return; // a phone's toolbar sliding away changes nothing here
      }
      var strokes = pad.toData();
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear(); // resizing wiped the canvas; keep isEmpty() truthful
      if (strokes.length) {
        pad.fromData(strokes);
      }
    }

    function showEmpty(shown) {
      if (emptyNote) {
        emptyNote.hidden = !shown;
      }
    }

    window.addEventListener("resize", resize);
    resize();

    pad.addEventListener("beginStroke", function () {
      showEmpty(false);
    });

    if (clearButton) {
      clearButton.addEventListener("click", function () {
        pad.clear();
        field.value = "";
      });
    }

    form.addEventListener("submit", function (event) {
      if (pad.isEmpty()) {
        event.preventDefault();
        field.value = "";
        showEmpty(true);
        canvas.scrollIntoView({ block: "center" });
        return;
      }
      field.value = pad.toDataURL("image/png");
    });
  }

  // The parent or guardian's name and relation are asked only when they sign.
  function setUpSigner(form) {
    var guardianFields = form.querySelector("[data-guardian-fields]");
    var radios = form.querySelectorAll("input[name=signer_kind]");
    var nameInput = form.querySelector("[name=signer_name]");
    var relationInput = form.querySelector("[name=signer_relation]");
    if (!guardianFields || !radios.length) {
      return;
    }

    function chosenKind() {
      var checked = form.querySelector("input[name=signer_kind]:checked");
      return checked ? checked.value : "";
    }

    function update() {
      var guardian = chosenKind() === "guardian";
      guardianFields.hidden = !guardian;
      if (nameInput) nameInput.required = guardian;
      if (relationInput) relationInput.required = guardian;
    }

    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    form.querySelectorAll("button[data-fill-name]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (nameInput) nameInput.value = button.getAttribute("data-fill-name");
        if (relationInput) relationInput.value = button.getAttribute("data-fill-relation");
        var guardianRadio = form.querySelector("input[name=signer_kind][value=guardian]");
        if (guardianRadio) guardianRadio.checked = true;
        update();
      });
    });
    update();
  }

  function start() {
    document.querySelectorAll("form[data-signature-form]").forEach(function (form) {
      setUpSigner(form);
      setUpPad(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
