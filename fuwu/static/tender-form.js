// Tender pages: the tender form shows the requirement fields of the chosen category
// and sums each round's criteria weights; the tender page counts down to the bid
// deadline. Without JavaScript every field shows and the server ignores the fields
// of other categories.
(function () {
  document.querySelectorAll("[data-tender-form]").forEach(function (form) {
    var select = form.querySelector("[data-category-select]");
    function showCategory() {
      var category = select ? select.value : "";
      form.querySelectorAll("[data-categories]").forEach(function (group) {
        group.hidden = group.getAttribute("data-categories").split(" ").indexOf(category) < 0;
      });
    }
    if (select) { select.addEventListener("change", showCategory); }
    showCategory();

    form.querySelectorAll("[data-round-box]").forEach(function (box) {
      var toggle = box.querySelector("[data-round-toggle]");
      var table = box.querySelector("[data-round-criteria]");
      var total = box.querySelector("[data-weight-total]");
      function sync() {
        table.hidden = !toggle.checked;
        var sum = 0;
        box.querySelectorAll("[data-weight]").forEach(function (input) {
          var value = parseInt(input.value, 10);
          if (!isNaN(value)) { sum += value; }
        });
        total.value = sum;
        total.classList.toggle("bad", sum !== 100);
      }
      box.addEventListener("input", sync);
      box.addEventListener("change", sync);
      sync();
    });
  });

  // Server time is the clock: the countdown corrects for the browser's clock offset.
  document.querySelectorAll("[data-deadline]").forEach(function (element) {
    var deadline = Date.parse(element.getAttribute("data-deadline"));
    var offset = Date.parse(element.getAttribute("data-server-now")) - Date.now();
    if (isNaN(deadline) || isNaN(offset)) { return; }
    function two(n) { return (n < 10 ? "0" : "") + n; }
    function tick() {
      var left = Math.floor((deadline - (Date.now() + offset)) / 1000);
      if (left <= 0) {
        element.textContent = element.getAttribute("data-closed-text");
        element.classList.add("closed");
        return;
      }
      var days = Math.floor(left / 86400);
      var time = two(Math.floor(left % 86400 / 3600)) + ":" + two(Math.floor(left % 3600 / 60)) + ":" + two(left % 60);
      var text = days > 0 ? element.getAttribute("data-days-text").replace("{days}", days) : element.getAttribute("data-text");
      element.textContent = text.replace("{time}", time);
      element.classList.toggle("soon", left < 86400);
      window.setTimeout(tick, 1000);
    }
    tick();
  });
})();
