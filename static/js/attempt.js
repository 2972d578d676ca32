// The test-taking page: a countdown on the server's clock, sparing screen-reader announcements,
// submission when time runs out, and feedback from htmx autosave. No inline script (CSP).
(function () {
  "use strict";

  const timer = document.getElementById("timer");
  const form = document.getElementById("answers-form");
  if (!timer || !form) {
    return;
  }
  const deadline = Date.parse(timer.dataset.deadline);
  // The server owns the clock: correct for this device's clock being off.
  const skew = Date.parse(timer.dataset.serverNow) - Date.now();
  const clock = timer.querySelector(".timer__clock");
  const announcer = document.getElementById("timer-announcer");
  const marks = (timer.dataset.announce || "").split(",").map(Number).filter(Boolean);
  const finishButton = document.getElementById(timer.dataset.finishButton);
  const announced = new Set();
  let submitted = false;

  const remaining = () => deadline - (Date.now() + skew);

  function format(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = String(total % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
  }

  function say(text) {
    announcer.textContent = text;
  }

  // Thresholds already reached when the page loads are not announced one by one: a single
  // message says how little time is left instead.
  const atLoad = remaining();
  const reached = marks.filter((minutes) => atLoad <= minutes * 60000);
  for (const minutes of reached) {
    announced.add(minutes);
  }
  if (reached.length && atLoad > 0) {
    const least = Math.min(...reached);
    say(least === 1 ? "Less than a minute left." : `Less than ${least} minutes left.`);
  }

  function tick() {
    const ms = remaining();
    clock.textContent = format(ms);
    timer.setAttribute("aria-label", `Time left ${format(ms)}`);
    timer.classList.toggle("timer--low", ms <= 5 * 60000);
    for (const minutes of marks) {
      if (ms <= minutes * 60000 && !announced.has(minutes)) {
        announced.add(minutes);
        say(minutes === 1 ? "1 minute left." : `${minutes} minutes left.`);
      }
    }
    if (ms <= 0) {
      if (!submitted) {
        submitted = true;
        say("Time is up. Your answers are being submitted.");
        timer.classList.add("timer--done");
        const timedOut = document.getElementById("timed-out");
        if (timedOut) {
          timedOut.value = "1";
        }
        if (finishButton) {
          form.requestSubmit(finishButton);
        }
      }
      return;
    }
    window.setTimeout(tick, 250);
  }
  tick();

  // Autosave feedback: keep the answered count and the question list up to date.
  const counters = document.querySelectorAll("[data-answered-count]");
  const progress = document.getElementById("progress");
  let answered = Number(counters.length ? counters[0].textContent : 0);

  function isAnswered(fieldset) {
    return fieldset.querySelector("input:checked") !== null;
  }

  for (const fieldset of form.querySelectorAll("fieldset.question")) {
    fieldset.dataset.answered = String(isAnswered(fieldset));
    fieldset.addEventListener("change", function () {
      const now = isAnswered(fieldset);
      if (String(now) !== fieldset.dataset.answered) {
        answered += now ? 1 : -1;
        fieldset.dataset.answered = String(now);
        for (const counter of counters) {
          counter.textContent = String(answered);
        }
        if (progress) {
          progress.textContent = progress.textContent.replace(/^\d+/, String(answered));
        }
        const id = fieldset.querySelector("input[name=question]").value;
        const link = document.querySelector(`[data-question-link="${id}"]`);
        if (link) {
          link.classList.toggle("is-answered", now);
          const state = link.querySelector(".visually-hidden");
          if (state) {
            state.textContent = now ? ", answered" : ", not answered";
          }
        }
      }
    });
  }

  function statusOf(event) {
    const fieldset = event.detail.elt.closest("fieldset.question");
    return fieldset ? fieldset.querySelector(".question__status") : null;
  }

  document.body.addEventListener("htmx:responseError", function (event) {
    const status = statusOf(event);
    if (status) {
      status.innerHTML = event.detail.xhr.responseText;
    }
  });
  document.body.addEventListener("htmx:sendError", function (event) {
    const status = statusOf(event);
    if (status) {
      status.textContent = "Not saved: no connection. Keep going and press Save when you are back online.";
      status.classList.add("save-status--error");
    }
  });
})();
