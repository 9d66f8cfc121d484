// chainrule practice: checks as you type and without reloading. The page works without it.
"use strict";
(function () {
  const form = document.querySelector("form.sheet");
  if (!form) return;
  const problem = document.querySelector("article.problem").dataset.problem;
  const inputs = Array.from(form.querySelectorAll("input[name^='ans-']"));
  const words = {correct: "✓ correct", carried: "→ carried", wrong: "✗ wrong", missing: "· not answered",
                 too_few_decimals: "✗ too few decimals"};
  let last = null;

  function answers() {
    const out = {};
    for (const input of inputs) {
      if (input.value.trim()) out[input.name.slice(4)] = input.value.trim();
    }
    return out;
  }

  async function post(url, body) {
    const response = await fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function text(tag, cls, content) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = content;
    return el;
  }

  function showVerdict(step, decimals) {
    const item = document.getElementById("step-" + step.name);
    if (!item) return;
    item.classList.remove("correct", "carried", "wrong", "missing", "too_few_decimals");
    const box = document.getElementById("verdict-" + step.name);
    box.replaceChildren();
    const input = document.getElementById("ans-" + step.name);
    if (step.status === "missing" && !input.value.trim()) return;
    item.classList.add(step.status);
    box.append(text("span", "status", words[step.status] || step.status));
    if (step.status !== "correct" && step.status !== "missing") {
      if (step.mistake) box.append(" ", text("code", "mistake", step.mistake));
      box.append(" ", text("span", "message", step.message));
      if (step.hint) box.append(text("span", "hint", step.hint));
    }
    if (step.status !== "correct" && step.expected !== undefined && step.expected !== null) {
      box.append(" ", text("span", "expected", "answer: " + Number(step.expected).toFixed(decimals)));
    }
  }

  function showReport(report, only) {
    for (const step of report.steps) showVerdict(step, report.decimals);
    const s = report.score;
    const score = document.getElementById("score");
    score.textContent = (only ? "Checked " + only + ". " : "") + "Score " + s.points + "/" + s.max + ": " +
      s.correct + " correct, " + s.carried + " carried, " + s.wrong + " wrong, " + s.missing +
      " not answered." + (report.input_errors.length ? " " + report.input_errors.join("; ") : "");
  }

  async function check(only, record) {
    try {
      const body = {problem: problem, answers: answers(), record: record};
      if (only) body.step = only;
      showReport(await post("/api/check", body), only);
    } catch (err) {
      document.getElementById("score").textContent = "Could not check: " + err.message;
    }
  }

  async function echo(input) {
    const name = input.name.slice(4);
    const box = document.getElementById("echo-" + name);
    const value = input.value;
    if (!value.trim()) { box.replaceChildren(); box.classList.remove("error"); return; }
    try {
      const reading = await post("/api/parse", {text: value, problem: problem, step: name});
      if (input.value !== value) return;
      box.classList.toggle("error", reading.kind === "error");
      box.replaceChildren();
      if (reading.kind === "error") { box.textContent = reading.message; return; }
      box.append("read as ");
      const holder = document.createElement("span");
      // MathML made on the server from the reading (latex2mathml escapes its input).
      holder.innerHTML = reading.mathml;
      box.append(holder);
      for (const note of reading.notes || []) box.append(text("span", "note", " " + note));
    } catch (err) { box.textContent = ""; }
  }

  const timers = new Map();
  function later(key, fn, ms) {
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(fn, ms));
  }
  for (const input of inputs) {
    input.addEventListener("input", function () {
      later("echo-" + input.name, function () { echo(input); }, 150);
      later("check", function () { check(null, false); }, 600);
    });
  }

  form.addEventListener("submit", async function (event) {
    const button = event.submitter;
    const action = button && button.value ? button.value : "check";
    event.preventDefault();
    if (action.startsWith("reveal:")) {
      const name = action.slice(7);
      try {
        const worked = await post("/api/reveal", {problem: problem, step: name});
        const box = document.getElementById("worked-" + name);
        box.innerHTML = worked.mathml;  // MathML made on the server from the problem's own LaTeX
        await check(null, false);
      } catch (err) {
        document.getElementById("score").textContent = "Could not show the step: " + err.message;
      }
      return;
    }
    await check(action.startsWith("check:") ? action.slice(6) : null, true);
  });
})();
