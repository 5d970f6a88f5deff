// On every portal page of a card session: listen to the local card agent's events and end the SSO session
// as soon as the card the user logged in with leaves its reader (the agent reports `removed` with the card
// id, or `reader_removed`/`resync` after which the card's presence is re-read). The server then logs the user
// out of every relying service by back-channel logout.
// With a presence lease (data-presence, D26) the page also hands the agent the session's presence token, so the
// agent itself keeps the session alive while the card is in and ends it when the card leaves, with no portal
// page open. It registers again whenever the event stream (re)connects: a restarted agent has forgotten it.
// On the page answering a card login (data-continue) it only registers, then goes on to where the login was
// going (the home page or a relying service).
//
// Lending the reader (D91). While <body> has `data-lent` (the consent page sets it once `POST /session/lend`
// has answered, e.g. `document.body.dataset.lent = lent_until`; the paused page has it from the server), the
// login card's `removed` ends nothing: the physician has taken the card out for a patient's card. The script
// then waits for the login card's `inserted` event (a patient's card inserted is ignored), posts
// `POST /session/lend/return` (csrf, card_id), registers the presence token with the agent again (the agent
// forgot it when the removal was reported) and removes `data-lent`. Then it dispatches, on `document`, the
// cancelable event `hcpki:lend-returned` (detail: `{ ok: true }`, or `{ ok: false, status, error }` when the
// portal refused the return, e.g. the lend ran out). Unless a listener calls `event.preventDefault()`, the
// page is then reloaded (ok) or sent to the sign-in page (refused). The attribute is read at each event, so a
// page may set and clear it at any time.
(function () {
  "use strict";
  const body = document.body;
  const agent = body.dataset.agent;
  const card = body.dataset.card;
  const csrf = body.dataset.csrf;
  const presence = body.dataset.presence;
  const next = body.dataset.continue;
  if (!agent || !card || !csrf) return;

  const lent = () => "lent" in body.dataset;
  const form = (fields) => ({
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
    credentials: "same-origin",
  });

  let ended = false;
  function end(reason) {
    if (ended) return;
    ended = true;
    fetch("/logout/card-removed", form({ csrf, card_id: card, reason }))
      // 423: the session's reader is lent (another tab lent it): the portal shows the paused page.
      .then((response) => response.status === 423 ? "/" : "/login?problem=ended_card_removed")
      .catch(() => "/login?problem=ended_card_removed")
      .then((where) => window.location.assign(where));
  }

  let returning = false;
  async function giveBack() {
    if (returning || !lent()) return;
    returning = true;
    let detail;
    try {
      const response = await fetch("/session/lend/return", form({ csrf, card_id: card }));
      const answer = await response.json().catch(() => ({}));
      detail = response.ok ? { ok: true } : { ok: false, status: response.status, error: answer.error };
    } catch (_) {
      detail = { ok: false, status: 0, error: { code: "network" } };
    }
    returning = false;
    if (detail.ok) {
      delete body.dataset.lent;
      register();
    } else if (detail.status === 0 || detail.status >= 500) {
      return; // our failure, not a refusal: the next `inserted` (or a reload) tries again
    }
    const event = new CustomEvent("hcpki:lend-returned", { detail, cancelable: true });
    if (document.dispatchEvent(event)) {
      if (detail.ok) window.location.reload();
      else window.location.assign("/login?problem=ended_card_removed");
    }
  }

  // Whether the agent lists the login card in a reader; `unsure` when the agent cannot be asked.
  async function inReader(unsure) {
    try {
      const response = await fetch(agent + "/v1/cards");
      if (!response.ok) return unsure;
      const cards = await response.json();
      const list = Array.isArray(cards) ? cards : cards.cards || cards.readers || [];
      return JSON.stringify(list).includes(JSON.stringify(card));
    } catch (_) {
      return unsure;
    }
  }
  // The agent is busy or restarting: do not log out on a guess.
  const stillPresent = () => inReader(true);

  function register() {
    if (!presence) return Promise.resolve();
    return fetch(agent + "/v1/presence", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: presence, card_id: card }),
      // A hung agent must not hold the user on the continuing page.
      signal: typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(5000) : undefined,
    }).catch(() => { /* the agent is not running: the lease runs out and the portal ends the session */ });
  }

  if (next) {
    register().finally(() => window.location.replace(next));
    return;
  }
  // Signing out ends this sign-in's signing sessions in the agent first (D163: the PIN it holds for them is
  // wiped), then posts the form; an agent that does not answer within two seconds does not keep anyone in.
  const signOut = document.querySelector("form[action='/logout'][data-signing-session-binding]");
  if (signOut) {
    signOut.addEventListener("submit", async (event) => {
      event.preventDefault();
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 2000);
      try {
        await fetch(agent + "/v1/signing-session/end", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ binding: signOut.dataset.signingSessionBinding }),
          signal: abort.signal,
        });
      } catch (_) {
        // The agent is gone or slow: its sessions end with the card, the PC's lock or their timer.
      }
      clearTimeout(timer);
      signOut.submit();
    }, { once: true });
  }

  if (typeof EventSource === "undefined") return;

  const parse = (event) => {
    try { return JSON.parse(event.data) || {}; } catch (_) { return {}; }
  };
  const events = new EventSource(agent + "/v1/events");
  events.addEventListener("open", async () => {
    // A lent page opened (or reconnected) with the login card already back: give it back at once.
    if (!lent()) register();
    else if (await inReader(false)) giveBack();
  });
  events.addEventListener("removed", (event) => {
    if (parse(event).card_id !== card || lent()) return;
    end("removed");
  });
  events.addEventListener("inserted", (event) => {
    if (parse(event).card_id === card && lent()) giveBack();
  });
  for (const name of ["reader_removed", "resync"]) {
    events.addEventListener(name, async () => {
      if (lent()) return;
      if (!(await stillPresent())) end(name);
    });
  }
})();
