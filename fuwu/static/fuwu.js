// Shows the merchant-only or provider-only fields of an organisation form.
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
