// Progressive enhancement only: every form works without this file.
// Adding or removing a row of a form is done in the page instead of a round trip.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[name='add_row'], button[name='remove_row']");
  if (!button || !button.form) return;
  const rows = button.closest("fieldset.rows");
  const add = button.name === "add_row";
  const existing = rows ? rows.querySelectorAll(":scope > fieldset.row") : [];
  // The server builds the first row (it knows the fields); later rows copy the last one.
  if (!rows || (add && existing.length === 0)) return;
  event.preventDefault();
  if (add) {
    const copy = existing[existing.length - 1].cloneNode(true);
    copy.querySelectorAll("input:not([type='hidden']), textarea").forEach((input) => {
      if (input.type === "checkbox") input.checked = false; else input.value = "";
    });
    copy.querySelectorAll("select").forEach((select) => { select.selectedIndex = 0; });
    copy.querySelectorAll(".error").forEach((message) => message.remove());
    button.before(copy);
  } else {
    button.closest("fieldset.row").remove();
  }
  renumber(rows);
});

// Rows are named by their position (indicators.0.key): after a change, number them again.
function renumber(rows) {
  const path = rows.dataset.rows;
  rows.querySelectorAll(":scope > fieldset.row").forEach((row, index) => {
    const pattern = new RegExp("^" + path.replace(/\./g, "\\.") + "\\.\\d+");
    const name = path + "." + index;
    const id = "f-" + name.replace(/\./g, "-");
    row.id = id;
    row.querySelectorAll("[name]").forEach((element) => {
      if (element.name === "remove_row") element.value = name;
      else element.name = element.name.replace(pattern, name);
    });
    row.querySelectorAll("[id]").forEach((element) => {
      element.id = element.id.replace(/^f-[^]*?-\d+(?=-|$)/, id);
    });
    row.querySelectorAll("label[for]").forEach((label) => {
      label.htmlFor = label.htmlFor.replace(/^f-[^]*?-\d+(?=-|$)/, id);
    });
    const legend = row.querySelector(":scope > legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+(?!.*\d)/, index + 1);
  });
}
