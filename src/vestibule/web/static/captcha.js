"use strict";
// The CAPTCHA with JavaScript: a worker computes the challenge's proof of work (about a second) and the form
// sends it in place of the typed characters. Submitting before it is done waits for it; typed characters go
// as they are if there is no proof yet; if the worker cannot run, the image (or audio) challenge remains.
(function () {
  const fieldset = document.querySelector("fieldset.captcha[data-puzzle]");
  const form = fieldset && fieldset.closest("form");
  const status = fieldset && fieldset.querySelector(".captcha-pow");
  const typed = fieldset && fieldset.querySelector("#captcha");
  const sent = fieldset && fieldset.querySelector("#captcha-proof");
  if (!form || !status || !typed || !sent || !window.Worker || !window.fetch) return;

  let proof = null;
  let failed = false;
  let waiting = null;  // the submit button of a submission that waits for the proof (or true)
  const started = performance.now();

  function show(state) {
    fieldset.dataset.state = state;
    status.textContent = fieldset.dataset[state] || "";
    status.hidden = false;
  }

  function resume() {
    const submitter = waiting;
    waiting = null;
    if (typeof form.requestSubmit !== "function") form.submit();
    else if (submitter instanceof HTMLElement) form.requestSubmit(submitter);
    else form.requestSubmit();
  }

  function solved(value) {
    proof = value;
    fieldset.dataset.solveMs = String(Math.round(performance.now() - started));
    show("done");
    if (waiting) resume();
  }

  function fail() {
    if (proof || failed) return;
    failed = true;
    typed.required = true;
    show("failed");
    if (waiting) {
      waiting = null;
      typed.focus();
    }
  }

  typed.required = false;
  show("working");
  fetch(fieldset.dataset.puzzle, { credentials: "same-origin", cache: "no-store" })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .then((puzzle) => {
      const worker = new Worker(fieldset.dataset.worker);
      worker.onmessage = (event) => {
        worker.terminate();
        if (event.data && event.data.proof) solved(event.data.proof);
        else fail();
      };
      worker.onerror = fail;
      worker.postMessage(puzzle);
    })
    .catch(fail);

  form.addEventListener("submit", (event) => {
    if (proof) {
      sent.value = proof;
      sent.disabled = false;
      typed.disabled = true;
      return;
    }
    if (failed || typed.value.trim()) return;
    event.preventDefault();
    waiting = event.submitter || true;
    show("finishing");
  });

  // A page shown again from the back-forward cache holds a used challenge: load a fresh one.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });
})();
