// Live progress of background jobs (sends, imports, analyses). Every element with
// data-job-url and data-job-active="true" asks its job's state every second and shows it;
// when the job ends the page reloads to show the outcome. Without JavaScript the page's
// "Refresh" link does the same by hand. No third-party code, no inline script (the pages'
// Content-Security-Policy allows scripts from this site only).
(function () {
  "use strict";
  function show(el, job) {
    var percent = Math.round(job.progress * 100) + "%";
    var bar = el.querySelector("progress");
    if (bar) { bar.value = job.progress; bar.textContent = percent; }
    var pct = el.querySelector("[data-job-percent]");
    if (pct) { pct.textContent = percent; }
    var msg = el.querySelector("[data-job-message]");
    if (msg) { msg.textContent = job.message; }
    var status = el.querySelector("[data-job-status]");
    if (status) { status.textContent = job.status; }
    el.setAttribute("data-job-status", job.status);
  }
  function poll(el) {
    fetch(el.getAttribute("data-job-url"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (job) {
      show(el, job);
      if (job.active) { window.setTimeout(function () { poll(el); }, 1000); }
      else {  // the outcome, without the "started" notice of the address
        window.setTimeout(function () { window.location.replace(window.location.pathname); }, 300);
      }
    }).catch(function () {
      window.setTimeout(function () { poll(el); }, 3000);
    });
  }
  var jobs = document.querySelectorAll('[data-job-url][data-job-active="true"]');
  for (var i = 0; i < jobs.length; i++) { poll(jobs[i]); }
})();
