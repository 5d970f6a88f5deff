// The signing-request page's button (issue #27 item 3): fetch the document this page shows, hand it to the local
// card agent's document signing (POST /v1/documents: the agent shows it on its own page and asks for the
// signature PIN there, never here), follow the operation, and post the agent's B-B .p7s back to the portal, which
// checks it against the stored document and the signed-in physician (D79) and adds the time stamp (D80).
//
// The card agent's document API (card-agent/src/api/documents.rs, D71): POST /v1/documents {format, title,
// content (base64), kind, level} → 202 {id, status_url, pin_url}; GET /v1/sign/{id}?wait=S&seen=P → status
// running | pin_required | done (result.document.content: the signed file, base64; result.document.level) |
// failed (error.code, error.message).
//
// Signing sessions (D163): the request carries session {binding} (this sign-in's, data-session-binding), and the
// key of the session this tab opened (kept in this tab's sessionStorage only: another tab or browser has none), so
// that after one PIN the agent asks only for a click on its own page; a session the agent refuses (ended, used up,
// another sign-in's) is forgotten and the PIN asked again. The agent's result.document.signing (without the key)
// is posted with the signature: the portal keeps it and tells the service (single / session n of N / batch). The
// facility's own limit (data-max-signatures, data-max-hours, D172) goes with a request that may open a session.
(function () {
  "use strict";
  const form = document.getElementById("sign-request");
  if (!form) return;
  const agent = document.body.dataset.agent;
  const words = form.dataset;
  const status = document.getElementById("sign-status");
  const say = (text) => { status.textContent = text; };

  async function json(response) {
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON: report the HTTP status */ }
    if (!response.ok) {
      const failure = body.error && typeof body.error === "object" ? body.error : null;
      const error = new Error((failure && failure.message) || body.message || response.statusText);
      error.code = failure && failure.code;
      throw error;
    }
    return body;
  }

  function base64(bytes) {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  const binding = form.dataset.sessionBinding;
  const stored = "hcpki-signing-session:" + binding;
  // Asked only when signing, never as the page loads.
  const tabStorage = () => { try { return window.sessionStorage; } catch (_) { return null; } };

  async function start(content, key) {
    const body = {
      format: form.dataset.format, title: form.dataset.title, content, kind: "hpki", level: "b-b",
      lang: document.documentElement.lang === "en" ? "en" : "ja",
    };
    if (binding) body.session = key ? { binding, key } : { binding };
    // The facility's limit (D172), for a session this signature may open: the agent takes the lower of it and
    // its own, so it can only shorten a session.
    if (binding && !key && form.dataset.maxSignatures !== undefined) {
      body.session.max_signatures = Number(form.dataset.maxSignatures);
      body.session.max_hours = Number(form.dataset.maxHours);
    }
    return json(await fetch(agent + "/v1/documents", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }));
  }

  async function sign() {
    say(words.sayPreparing);
    const response = await fetch(form.dataset.document, { credentials: "same-origin" });
    if (!response.ok) throw new Error(words.sayGone);
    const content = base64(new Uint8Array(await response.arrayBuffer()));
    let op;
    const storage = binding ? tabStorage() : null;
    const key = storage ? storage.getItem(stored) : null;
    try {
      try {
        op = await start(content, key);
      } catch (e) {
        // The session this tab held is over (the agent says why in its log): sign with the PIN instead.
        if (!key || !(e.code || "").startsWith("session_")) throw e;
        storage.removeItem(stored);
        op = await start(content, null);
      }
    } catch (e) {
      if (e instanceof TypeError) throw new Error(words.sayNoAgent);
      throw e;
    }
    let seen = "running";
    let pinWindow = null;
    for (;;) {
      let state;
      try {
        state = await json(await fetch(`${agent}/v1/sign/${encodeURIComponent(op.id)}?wait=30&seen=${seen}`));
      } catch (e) {
        if (e instanceof TypeError) throw new Error(words.sayNoAgent);
        throw e;
      }
      if (state.status === "pin_required") {
        say(state.confirm ? words.sayConfirm : words.sayPin);
        if (state.pin_url && (!pinWindow || pinWindow.closed)) {
          pinWindow = window.open(state.pin_url, "hcpki-pin", "width=480,height=560");
        }
        seen = "pin_required";
        continue;
      }
      if (state.status === "failed") {
        if (pinWindow && !pinWindow.closed) pinWindow.close();
        const code = state.error && state.error.code;
        if (storage && code && code !== "cancelled" && code !== "pin_timeout") storage.removeItem(stored);
        throw new Error(code === "cancelled" ? words.sayCancelled : (state.error && state.error.message) || code);
      }
      if (state.status === "done") {
        say(words.sayVerifying);
        form.elements.signature.value = state.result.document.content;
        const signing = Object.assign({}, state.result.document.signing || { mode: "single" });
        if (signing.key && storage) storage.setItem(stored, signing.key);
        delete signing.key;
        form.elements.signing.value = JSON.stringify(signing);
        form.submit();
        if (pinWindow && !pinWindow.closed) pinWindow.close();
        return;
      }
      seen = "running";
    }
  }

  const button = document.getElementById("sign-button");
  button.hidden = false;
  button.addEventListener("click", () => {
    button.disabled = true;
    sign().catch((e) => {
      say(e.message || String(e));
      button.disabled = false;
    });
  });
})();
