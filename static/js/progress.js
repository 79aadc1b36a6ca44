/* Keeps a job's progress bar up to date by polling its JSON progress endpoint; reloads the
   page once the job has finished so the result, errors and report appear. No dependencies. */
(function () {
  "use strict";
  var box = document.querySelector(".job-progress[data-progress-url]");
  if (!box || box.dataset.finished === "true") { return; }
  var url = box.dataset.progressUrl;

  function set(field, text) {
    var node = box.querySelector('[data-field="' + field + '"]');
    if (node) { node.textContent = text; }
  }

  function show(p) {
    var bar = box.querySelector("progress");
    bar.value = p.percent;
    bar.textContent = p.percent + " %";
    set("percent-text", p.percent + " %");
    set("status_label", p.status_label);
    set("rows_done", p.rows_done);
    set("rows_total", p.rows_total === null ? "?" : p.rows_total);
    set("rows_valid", p.rows_valid);
    set("rows_invalid", p.rows_invalid);
    set("rows_flagged", p.rows_flagged);
    set("rows_per_second", p.rows_per_second === null || p.rows_per_second === undefined ? "—" : p.rows_per_second);
    set("eta", p.eta_seconds === null || p.eta_seconds === undefined ? "—" : "about " + p.eta_seconds + " s left");
    set("stage", p.stage || "waiting for a worker");
    set("waiting_note", p.waiting_note || "");
  }

  function poll() {
    // Marked as the page's own polling: it does not keep an idle session alive.
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", "X-Background-Poll": "1" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (p) {
        show(p);
        if (p.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 1000);
})();
