// Progressive enhancement only: the form works without this file. Verifying a large trail
// takes seconds; while the next page is on its way, say what the user waits for, and keep
// a second click from sending the request again.
"use strict";
document.querySelectorAll("form.verify-form[data-working]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    const button = form.querySelector("button[type='submit']");
    if (button.getAttribute("aria-disabled") === "true") {
      event.preventDefault();
      return;
    }
    button.setAttribute("aria-disabled", "true");
    form.querySelector(".working").textContent = form.dataset.working;
  });
});
