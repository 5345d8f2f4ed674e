// Progressive enhancement: a sort menu applies itself; without JS its button does the same.
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  var button = select.form.querySelector("button[type=submit]");
  if (button) { button.hidden = true; }
  select.addEventListener("change", function () { select.form.submit(); });
});
