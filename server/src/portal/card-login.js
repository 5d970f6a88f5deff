// The portal login page's card button: ask the portal for a single-use challenge, have the local card agent
// sign it (the PIN is typed into the agent's own window, never into this page), and post the signature and
// certificate chain back. The server rebuilds the signed message from its own origin and the challenge it
// issued, so nothing this script sends can widen what a signature proves.
(function () {
  "use strict";
  const form = document.getElementById("card-login");
  if (!form) return;
  const agent = form.dataset.agent;
  const say = (text) => { document.getElementById("card-status").textContent = text; };
  // The status line's words, in the page's language, from the form's data-say-* attributes.
  const words = form.dataset;

  // A state the person must be told about: the login page shows it in the page's language (kept by the
  // portal's language cookie), server-rendered (`/login?problem=<code>`, D58), with the login buttons below it
  // for the retry.
  class Problem extends Error {
    constructor(code, extra) {
      super(code);
      this.code = code;
      this.extra = extra || {};
    }
  }

  async function json(response) {
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON: report the HTTP status */ }
    if (!response.ok) {
      const message = (body.error && body.error.message) || body.message || body.error || response.statusText;
      const error = new Error(message);
      error.agentFailure = body.error && typeof body.error === "object" ? body.error : null;
      throw error;
    }
    return body;
  }

  // The agent found no card of the kind asked: no reader at all, a card of the other kind, or no card.
  async function noCard(kind) {
    try {
      const listed = await (await fetch(agent + "/v1/cards")).json();
      const readers = Array.isArray(listed.readers) ? listed.readers : [];
      if (readers.length === 0) return new Problem("no_reader");
      if (readers.some((r) => r.card && r.card.kind && r.card.kind !== kind)) return new Problem("wrong_card", { kind });
    } catch (_) { /* the agent went away meanwhile: say what it said */ }
    return new Problem("no_card", { kind });
  }

  // The agent's failure codes (card-agent `ApiFailure`) as the portal's problems; `null` for a cancel.
  async function problemOf(failure, kind) {
    switch (failure.code) {
      case "no_card": return noCard(kind);
      case "no_service": case "no_such_reader": return new Problem("no_reader");
      case "several_cards": return new Problem("several_cards");
      case "wrong_card": return new Problem("wrong_card", { kind });
      case "wrong_pin": case "bad_pin_format":
        return new Problem("wrong_pin", { tries_left: failure.tries_left, kind });
      case "last_try_not_confirmed": return new Problem("last_try", { kind });
      case "pin_blocked": return new Problem("pin_locked", { kind });
      case "pin_timeout": return new Problem("pin_timeout", { kind });
      case "cancelled": return null;
      default: return new Problem("card_error", { kind });
    }
  }

  function show(problem) {
    const query = new URLSearchParams({ problem: problem.code });
    if (Number.isInteger(problem.extra.tries_left)) query.set("tries_left", String(problem.extra.tries_left));
    if (problem.extra.kind) query.set("kind", problem.extra.kind);
    const back = form.querySelector("input[name=return_to]").value;
    if (back && back !== "/") query.set("return_to", back);
    window.location.assign("/login?" + query.toString());
  }

  // The login in flight: its agent operation, once started, and whether a newer login replaced it. A window
  // closed by hand or a new press of a button ends it at the agent at once (issue #45 item 5): the agent would
  // otherwise hold the card for the closed window's question until its PIN timeout.
  let current = null;

  function cancelAtAgent(login) {
    if (!login.op) return;
    fetch(`${agent}/v1/sign/${encodeURIComponent(login.op)}/cancel`, { method: "POST" }).catch(() => {
      /* the agent went away: nothing is waiting there any more */
    });
  }

  async function login(mine, kind, allowLastTry) {
    say(words.sayPreparing);
    const csrf = form.querySelector("input[name=csrf]").value;
    const challenge = await json(await fetch("/login/card/challenge", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, kind }),
      credentials: "same-origin",
    }));
    let op;
    try {
      op = await json(await fetch(agent + "/v1/sign", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        // The agent's page speaks the portal page's language.
        body: JSON.stringify({
          challenge: challenge.challenge, kind, role: "auth", allow_last_try: allowLastTry,
          lang: document.documentElement.lang === "en" ? "en" : "ja",
        }),
      }));
    } catch (e) {
      // fetch rejects with a TypeError when nothing answers at the agent's address.
      if (e instanceof TypeError) throw new Problem("agent_not_running");
      if (e.agentFailure && e.agentFailure.code) {
        const problem = await problemOf(e.agentFailure, kind);
        if (problem) throw problem;
      }
      throw e;
    }
    mine.op = op.id;
    if (mine.replaced) {
      cancelAtAgent(mine);
      return;
    }
    let seen = "running";
    let pinWindow = null;
    // The PIN window closed by hand while the agent still asks: the question is cancelled at the agent, whose
    // answer ("cancelled") then ends this loop.
    let watch = null;
    const stopWatching = () => { if (watch) clearInterval(watch); watch = null; };
    try {
      for (;;) {
        let state;
        try {
          state = await json(await fetch(`${agent}/v1/sign/${encodeURIComponent(op.id)}?wait=30&seen=${seen}`));
        } catch (e) {
          if (e instanceof TypeError) throw new Problem("agent_not_running");
          throw e;
        }
        if (mine.replaced) return; // a newer login owns the page's status line
        if (state.status === "pin_required") {
          if (state.pin_url && (!pinWindow || pinWindow.closed)) {
            pinWindow = window.open(state.pin_url, "hcpki-pin", "width=440,height=380");
            if (!pinWindow) {
              // Blocked (no click recent enough for a popup): say so, never "type the PIN" with no window.
              cancelAtAgent(mine);
              say(words.sayPinBlocked);
              return;
            }
            stopWatching();
            watch = setInterval(() => {
              if (pinWindow.closed) {
                stopWatching();
                cancelAtAgent(mine);
              }
            }, 500);
          }
          say(words.sayPin);
          seen = "pin_required";
          continue;
        }
        if (state.status === "failed") {
          if (pinWindow && !pinWindow.closed) pinWindow.close();
          const problem = await problemOf(state.error, kind);
          if (!problem) {
            say(words.sayCancelled);
            return;
          }
          throw problem;
        }
        if (state.status === "done") {
          say(words.sayVerifying);
          form.elements.challenge_id.value = challenge.challenge; // the challenge is its own key (no separate id)
          form.elements.kind.value = kind;
          form.elements.signature.value = state.result.signature;
          form.elements.chain.value = state.result.chain.join(",");
          form.submit();
          // Closed once the post is on its way: closing a window takes the browser a while.
          if (pinWindow && !pinWindow.closed) pinWindow.close();
          return;
        }
        seen = "running";
      }
    } finally {
      stopWatching();
    }
  }

  function start(kind, allowLastTry) {
    if (current) {
      current.replaced = true;
      cancelAtAgent(current);
    }
    const mine = { op: null, replaced: false };
    current = mine;
    login(mine, kind, allowLastTry).catch((e) => {
      if (mine.replaced) return;
      if (e instanceof Problem) show(e);
      else say(words.sayFailed + " " + e.message);
    });
  }

  for (const button of form.querySelectorAll("button[data-kind]")) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      start(button.dataset.kind, false);
    });
  }
  // The last try's box (`problem=last_try`): only with its confirmation ticked does the agent get to ask.
  for (const button of document.querySelectorAll("button[data-last-try]")) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const confirmed = document.getElementById("problem-confirm-last-try");
      if (!confirmed || !confirmed.checked) {
        if (confirmed) confirmed.focus();
        say(words.sayConfirmFirst);
        return;
      }
      start(button.dataset.kind, true);
    });
  }
})();
