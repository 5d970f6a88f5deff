// The consent page's forms and the returning patient's identification (issue #28): each `form.consent-flow` prepares its PDF on the portal (POST
// data-prepare with data-step: show the consent, render the withdrawal or the attestation), hands it to the local
// card agent's document signing (POST /v1/documents, kind jpki for the patient's My Number card, hpki for the
// physician's attestation: the agent shows it on its own page and asks for the password there, never here),
// follows the operation and posts the agent's B-B PAdES back (with the card's user-authentication certificate,
// read by the agent with the signature); the portal checks it, time-stamps it and keeps the revocation data.
//
// A template with evidence = "authentication" (D130 item 3) asks the patient for the 4-digit user PIN instead: the
// form says data-role="auth", the portal's prepare answer carries a challenge, the agent shows the same PDF and
// returns the authentication key's answer (signature, chain), posted with the challenge.
//
// With one card reader the physician lends it (D91): the page asks the portal to keep the session while the
// physician's card is out (POST /session/lend), waits for the patient's card, and after the signature for the
// physician's own card (the session's data-card) to come back (POST /session/lend/return) before it posts.
// With two readers nothing is lent: the patient's card goes into the free reader.
//
// The card agent's API (card-agent/src/api/documents.rs, D71, D90): GET /v1/cards → {readers: [{name, card:
// {kind, card_id, certificates: [{role, chain}]}}]}; POST /v1/documents {format, title, content (base64), kind,
// level} → 202 {id}; GET /v1/sign/{id}?wait=S&seen=P → running | pin_required (pin_url) | done
// (result.document.content, result.document.authentication_certificate) | failed (error.code, error.message).
(function () {
  "use strict";
  const body = document.body;
  const agent = body.dataset.agent;
  const ownCard = body.dataset.card;
  const csrf = body.dataset.csrf;
  const presence = body.dataset.presence;
  if (!agent) return;

  async function json(response) {
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON: report the HTTP status */ }
    if (!response.ok) {
      const failure = data.error && typeof data.error === "object" ? data.error : null;
      const error = new Error((failure && failure.message) || (typeof data.error === "string" && data.error) || data.message || response.statusText);
      error.code = failure && failure.code;
      throw error;
    }
    return data;
  }

  function base64(bytes) {
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function readers(words) {
    try {
      const listing = await json(await fetch(agent + "/v1/cards"));
      return listing.readers || [];
    } catch (e) {
      if (e instanceof TypeError) throw new Error(words.sayNoAgent);
      throw e;
    }
  }

  // Wait until `test(readers)` holds (the agent's event stream would do as well; polling keeps this simple and
  // survives an agent restart).
  async function until(words, test) {
    for (;;) {
      const list = await readers(words);
      const found = test(list);
      if (found) return found;
      await sleep(500);
    }
  }

  // After a lend the agent has dropped the session's presence registration (it reported the card's removal):
  // hand it the token again, so it keeps the session alive while the card is in (D26).
  async function giveBack(words) {
    await until(words, (l) => l.find((r) => r.card && r.card.card_id === ownCard));
    await post("/session/lend/return", { csrf, card_id: ownCard });
    delete body.dataset.lent;
    if (presence) {
      await fetch(agent + "/v1/presence", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: presence, card_id: ownCard }),
      }).catch(() => { /* the agent went away: the lease runs out and the portal ends the session */ });
    }
  }

  async function post(url, fields) {
    return json(await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
      credentials: "same-origin",
    }));
  }

  // The patient's card into a reader: with one reader holding the physician's card, lend it for `reference`
  // (the consent, or the identification); true when lent.
  async function borrow(words, reference, say) {
    const list = await readers(words);
    const own = list.find((r) => r.card && r.card.card_id === ownCard);
    let lent = false;
    if (own && list.length === 1) {
      await post("/session/lend", { csrf, consent: reference });
      lent = true;
      body.dataset.lent = "1";
      say(words.sayLend);
    } else if (!list.some((r) => r.card && r.card.kind === "jpki")) {
      say(words.sayInsert);
    }
    await until(words, (l) => l.find((r) => r.card && r.card.kind === "jpki"));
    return lent;
  }

  // Start an agent operation (POST `path` with `request`) and follow it to its result; the PIN or password is
  // typed in the agent's own window. A failure carries the page's words for the agent's code.
  async function operate(words, path, request, pinWords, lent, say) {
    let op;
    try {
      op = await json(await fetch(agent + path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(request),
      }));
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
        say(pinWords);
        if (state.pin_url && (!pinWindow || pinWindow.closed)) {
          pinWindow = window.open(state.pin_url, "hcpki-pin", "width=560,height=720");
        }
        seen = "pin_required";
        continue;
      }
      if (state.status === "failed") {
        if (pinWindow && !pinWindow.closed) pinWindow.close();
        const code = (state.error && state.error.code) || "";
        // The agent's codes (docs/card-agent.md) in the page's words; any other, the agent's own message.
        const key = "say" + code.replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase());
        const said = code === "cancelled" ? words.sayCancelled : words[key];
        const error = new Error(said || (state.error && state.error.message) || code);
        error.lent = lent;
        throw error;
      }
      if (state.status === "done") {
        if (pinWindow && !pinWindow.closed) pinWindow.close();
        return state.result;
      }
      seen = "running";
    }
  }

  // An authentication key's answer (an identification, an agreement with the PIN) into the form's fields: the
  // portal's challenge, the card's signature and its chain.
  function fillAnswer(form, challenge, answered) {
    form.elements.challenge.value = challenge;
    form.elements.signature.value = answered.signature;
    form.elements.chain.value = answered.chain.join(",");
  }

  // Post the form once the physician's card is back (when it was lent).
  async function finish(form, words, lent, say) {
    if (lent) {
      say(words.sayReturn);
      await giveBack(words);
    }
    say(words.sayVerifying);
    form.submit();
  }

  // The agent's page speaks the portal page's language.
  function pageLang() {
    return document.documentElement.lang === "en" ? "en" : "ja";
  }

  async function run(form, say) {
    const words = form.dataset;
    const kind = words.kind;
    // form.action is the hidden input named "action": the attribute holds the URL.
    const lent = kind === "jpki" ? await borrow(words, form.getAttribute("action").split("/").pop(), say) : false;
    say(words.sayPreparing);
    const reason = form.querySelector("input[name=reason]:checked");
    const fields = { csrf, step: words.step };
    if (reason) fields.reason = reason.value;
    if (words.role) fields.role = words.role;
    const prepared = await post(words.prepare, fields);
    const response = await fetch(prepared.document, { credentials: "same-origin" });
    if (!response.ok) throw new Error(response.statusText);
    const content = base64(new Uint8Array(await response.arrayBuffer()));
    if (words.role === "auth") {
      // D130 item 3: the agent shows the same PDF, the patient types the 4-digit PIN, and the card's
      // user-authentication key answers the portal's challenge bound to the PDF's SHA-256 (nothing is signed in).
      const request = {
        format: "pades", title: words.title, content, kind: "jpki", role: "auth", challenge: prepared.challenge,
        lang: pageLang(),
      };
      fillAnswer(form, prepared.challenge, await operate(words, "/v1/documents", request, words.sayPin, lent, say));
      await finish(form, words, lent, say);
      return;
    }
    const request = { format: "pades", title: words.title, content, kind, level: "b-b", lang: pageLang() };
    const pinWords = kind === "jpki" ? words.sayPin : words.sayPinHpki;
    const done = (await operate(words, "/v1/documents", request, pinWords, lent, say)).document;
    form.elements.signature.value = done.content;
    if (form.elements.authentication_certificate) {
      form.elements.authentication_certificate.value = done.authentication_certificate || "";
    }
    await finish(form, words, lent, say);
  }

  // A returning patient (`form.identify-flow`): the My Number card's user-authentication key signs the portal's
  // challenge after the 4-digit PIN, as a card login does; the portal compares the card's link with the ID typed.
  async function identify(form, say) {
    const words = form.dataset;
    if (!form.elements.patient_id.reportValidity()) throw new Error(words.sayNoPatient);
    const lent = await borrow(words, "identify", say);
    say(words.sayPreparing);
    const issued = await post(words.challenge, { csrf });
    // "identification": the agent's page tells the patient 受付での本人確認 and the card signs the identification's
    // message, which is what the portal checks (a login's would not verify).
    const request = {
      challenge: issued.challenge, kind: "jpki", role: "auth", purpose: "identification", allow_last_try: false,
      lang: pageLang(),
    };
    fillAnswer(form, issued.challenge, await operate(words, "/v1/sign", request, words.sayPin, lent, say));
    await finish(form, words, lent, say);
  }

  for (const form of document.querySelectorAll("form.consent-flow, form.identify-flow")) {
    const flow = form.classList.contains("identify-flow") ? identify : run;
    const button = form.querySelector(".flow-button");
    const status = form.querySelector(".flow-status");
    const say = (text) => { status.textContent = text; };
    button.hidden = false;
    button.addEventListener("click", () => {
      button.disabled = true;
      flow(form, say).catch(async (e) => {
        say(e.message || String(e));
        if (body.dataset.lent) {
          // Nothing was signed: the physician's card comes back and the session goes on.
          try {
            await giveBack(form.dataset);
          } catch (_) { /* the lend runs out; the portal ends the session */ }
        }
        button.disabled = false;
      });
    });
  }
})();
