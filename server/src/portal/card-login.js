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

  async function json(response) {
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON: report the HTTP status */ }
    if (!response.ok) {
      const message = (body.error && body.error.message) || body.message || body.error || response.statusText;
      throw new Error(message);
    }
    return body;
  }

  async function login(kind) {
    say("カードの署名を準備しています… / Preparing the card signature…");
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
        body: JSON.stringify({ challenge: challenge.challenge, kind, role: "auth" }),
      }));
    } catch (e) {
      if (e instanceof TypeError) {
        throw new Error("カードエージェントに接続できません / The card agent is not running on this PC (" + agent + ")");
      }
      throw e;
    }
    let seen = "running";
    let pinWindow = null;
    for (;;) {
      const state = await json(await fetch(`${agent}/v1/sign/${encodeURIComponent(op.id)}?wait=30&seen=${seen}`));
      if (state.status === "pin_required") {
        say("PIN を入力してください / Enter the PIN in the card agent's window");
        if (state.pin_url && (!pinWindow || pinWindow.closed)) {
          pinWindow = window.open(state.pin_url, "hcpki-pin", "width=440,height=380");
        }
        seen = "pin_required";
        continue;
      }
      if (state.status === "failed") {
        if (pinWindow && !pinWindow.closed) pinWindow.close();
        const left = state.error.tries_left !== undefined ? ` (${state.error.tries_left})` : "";
        throw new Error(state.error.message + left);
      }
      if (state.status === "done") {
        say("確認しています… / Verifying…");
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
  }

  for (const button of form.querySelectorAll("button[data-kind]")) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      login(button.dataset.kind).catch((e) => say("ログインできません / Cannot log in: " + e.message));
    });
  }
})();
