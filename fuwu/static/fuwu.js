// Behaviour shared by every page, loaded once from base.html. The pages carry no
// inline script or event handler (the Content-Security-Policy refuses them): they mark
// elements with data- attributes and this file wires them up. Every page also works
// without JavaScript; this only saves a click or asks before something final.
//
// Loaded in <head> without defer, so that the "js" class is set before the first paint
// (no flash of the open menu on a phone); the rest waits for the document.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", function () {
  // The main menu collapses behind a button on narrow screens. Without JavaScript the
  // button stays hidden and the menu shows in full (the "js" class is never set).
  document.querySelectorAll("[data-menu-toggle]").forEach(function (button) {
    var header = button.closest("header");
    button.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });

  // <select data-autosubmit>: choosing a value submits its form (a <noscript> button
  // does it without JavaScript).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.submit();
    }
  });

  // <form data-confirm="question">: asks before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Bid form: "Add a row" copies the SLA row template.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-add-sla-row]");
    if (!button) { return; }
    var form = button.closest("form");
    var template = form.querySelector("template[data-sla-template]");
    form.querySelector("[data-sla-rows]").appendChild(template.content.cloneNode(true));
  });

  // Award form: a reason is required when the chosen bid is not ranked first.
  document.querySelectorAll("[data-award-form]").forEach(function (form) {
    var reason = form.querySelector('textarea[name="reason"]');
    function sync() {
      var chosen = form.querySelector('input[name="bid_id"]:checked');
      reason.required = !!chosen && chosen.getAttribute("data-rank") !== "1";
    }
    form.addEventListener("change", sync);
    sync();
  });

  // Organisation forms: show the merchant-only or provider-only fields.
  document.querySelectorAll("[data-kind-form]").forEach(function (form) {
    function sync() {
      var checked = form.querySelector("input[name=kind]:checked");
      var kind = checked ? checked.value : "merchant";
      form.querySelectorAll(".merchant-only").forEach(function (el) { el.hidden = kind !== "merchant"; });
      form.querySelectorAll(".provider-only").forEach(function (el) { el.hidden = kind !== "provider"; });
    }
    form.addEventListener("change", sync);
    sync();
  });
});
