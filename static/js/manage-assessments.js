// Enablement's level-2 and level-3 forms, enhanced. Every form works without this file: the
// server re-renders on "Show the fields for this scale", "Find people" and "Check the panel".
// No inline script or style anywhere (CSP): this file only toggles the hidden attribute and
// rebuilds <option> lists.
(function () {
  "use strict";

  // A guide: show the descriptor fields of the points on the scale as it is typed. -----------
  function guideForm(form) {
    const low = form.querySelector("#id_scale_min");
    const high = form.querySelector("#id_scale_max");
    const hint = form.querySelector("[data-scale-hint]");
    const apply = form.querySelector("[data-scale-apply]");
    if (!low || !high) {
      return;
    }
    const maxPoints = Number(high.getAttribute("max")) || 10;

    function update() {
      const min = Number.parseInt(low.value, 10);
      const max = Number.parseInt(high.value, 10);
      const valid =
        Number.isInteger(min) && Number.isInteger(max) && min >= 0 && min < max &&
        max - min + 1 <= maxPoints;
      if (!valid) {
        if (hint) {
          hint.textContent = `Choose a lowest point below the highest, at most ${maxPoints} points.`;
        }
        return; // keep the fields shown as they were until the scale makes sense
      }
      for (const box of form.querySelectorAll(".descriptor[data-point]")) {
        const point = Number(box.dataset.point);
        box.hidden = point < min || point > max;
      }
      for (const note of form.querySelectorAll("[data-scale-missing]")) {
        note.hidden = true;
      }
      if (hint) {
        hint.textContent = `Every criterion describes every point of the scale. Now: ${min} to ${max}.`;
      }
    }

    if (apply) {
      apply.hidden = true;
    }
    low.addEventListener("input", update);
    high.addEventListener("input", update);
  }

  // Scheduling: the lead judge and the owner are chosen among the ticked judges. -------------
  function sessionForm(form) {
    const list = form.querySelector("[data-judge-list]");
    const lead = form.querySelector("#id_lead");
    const owner = form.querySelector("#id_owner");
    const search = form.querySelector("#id_people_q");
    if (!list) {
      return;
    }
    const boxes = () => Array.from(list.querySelectorAll('input[name="judges"]'));
    const viewer = form.dataset.viewer || "";

    function rebuild(select, { skip = "" } = {}) {
      if (!select) {
        return;
      }
      const chosen = select.value;
      const first = select.options[0];
      const options = [first];
      for (const box of boxes()) {
        if (box.checked && box.value !== skip) {
          const text = box.closest("label").textContent.trim();
          const option = new Option(text, box.value, false, box.value === chosen);
          options.push(option);
        }
      }
      select.replaceChildren(...options);
      if (!options.some((option) => option.selected)) {
        first.selected = true;
      }
    }

    function sync() {
      rebuild(lead);
      rebuild(owner, { skip: viewer });
    }

    list.addEventListener("change", sync);

    // With the people already listed (all of them, in a small organisation), narrow as you
    // type; "Find people" still searches everyone on the server.
    if (search) {
      const status = document.createElement("p");
      status.className = "muted picker__count";
      status.setAttribute("aria-live", "polite");
      list.before(status);
      search.addEventListener("input", () => {
        const text = search.value.trim().toLowerCase();
        let shown = 0;
        const all = boxes();
        for (const box of all) {
          const row = box.closest("label").parentElement;
          const match = !text || box.checked || row.textContent.toLowerCase().includes(text);
          row.hidden = !match;
          shown += match ? 1 : 0;
        }
        status.textContent = text
          ? `${shown} of the ${all.length} listed match. Press Find people to search everyone.`
          : "";
      });
    }
  }

  // Delegations: a rep or a team, as the radio says. -----------------------------------------
  function delegationForm(form) {
    const radios = Array.from(form.querySelectorAll('input[name="scope"]'));
    if (!radios.length) {
      return;
    }
    function update() {
      const scope = (radios.find((radio) => radio.checked) || radios[0]).value;
      for (const part of form.querySelectorAll("[data-scope-part]")) {
        part.hidden = part.dataset.scopePart !== scope;
      }
    }
    for (const radio of radios) {
      radio.addEventListener("change", update);
    }
    update();
  }

  for (const form of document.querySelectorAll("[data-guide-form]")) {
    guideForm(form);
  }
  for (const form of document.querySelectorAll("[data-session-form]")) {
    sessionForm(form);
  }
  for (const form of document.querySelectorAll("[data-delegation-form]")) {
    delegationForm(form);
  }
})();
