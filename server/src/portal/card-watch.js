// On every portal page of a card session: listen to the local card agent's events and end the SSO session
// as soon as the card the user logged in with leaves its reader (the agent reports `removed` with the card
// id, or `reader_removed`/`resync` after which the card's presence is re-read). The server then logs the user
// out of every relying service by back-channel logout.
// With a presence lease (data-presence, D26) the page also hands the agent the session's presence token, so the
// agent itself keeps the session alive while the card is in and ends it when the card leaves, with no portal
// page open. It registers again whenever the event stream (re)connects: a restarted agent has forgotten it.
// On the page answering a card login (data-continue) it only registers, then goes on to where the login was
// going (the home page or a relying service).
(function () {
  "use strict";
  const body = document.body;
  const agent = body.dataset.agent;
  const card = body.dataset.card;
  const csrf = body.dataset.csrf;
  const presence = body.dataset.presence;
  const next = body.dataset.continue;
  if (!agent || !card || !csrf) return;

  let ended = false;
  function end(reason) {
    if (ended) return;
    ended = true;
    fetch("/logout/card-removed", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, card_id: card, reason }),
      credentials: "same-origin",
    }).finally(() => window.location.assign("/login?problem=ended_card_removed"));
  }

  async function stillPresent() {
    try {
      const response = await fetch(agent + "/v1/cards");
      if (!response.ok) return true; // the agent is busy or restarting: do not log out on a guess
      const cards = await response.json();
      const list = Array.isArray(cards) ? cards : cards.cards || cards.readers || [];
      return JSON.stringify(list).includes(JSON.stringify(card));
    } catch (_) {
      return true;
    }
  }

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
  if (typeof EventSource === "undefined") return;

  const events = new EventSource(agent + "/v1/events");
  events.addEventListener("open", register);
  events.addEventListener("removed", (event) => {
    let data = {};
    try { data = JSON.parse(event.data); } catch (_) { /* ignore malformed events */ }
    if (data.card_id === card) end("removed");
  });
  for (const name of ["reader_removed", "resync"]) {
    events.addEventListener(name, async () => { if (!(await stillPresent())) end(name); });
  }
})();
