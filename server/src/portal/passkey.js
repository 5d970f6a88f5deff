// Passkeys (issue #48 item 1, D157): the registration on /passkeys and the sign-in on /login, including the
// browser's autofill of passkeys (conditional mediation) on the user name field. The server makes every
// decision; this script only carries its options to navigator.credentials and the answer back in a form post.
"use strict";

(function () {
  const b64 = {
    toBuffer(text) {
      const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
      const raw = atob(base64 + "===".slice((base64.length + 3) % 4));
      return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
    },
    of(buffer) {
      const bytes = new Uint8Array(buffer);
      let raw = "";
      for (const b of bytes) raw += String.fromCharCode(b);
      return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };

  async function options(path, csrf) {
    const body = new URLSearchParams({ csrf });
    const answer = await fetch(path, { method: "POST", body, credentials: "same-origin" });
    const json = await answer.json();
    if (!answer.ok) throw new Error(json.error ? json.error.message : String(answer.status));
    return json;
  }

  function set(form, name, value) {
    form.querySelector(`input[name="${name}"]`).value = value;
  }

  // ---- registration (/passkeys) ----
  const register = document.getElementById("passkey-register");
  if (register) {
    const status = document.getElementById("passkey-status");
    document.getElementById("passkey-add").addEventListener("click", async () => {
      if (!window.PublicKeyCredential) {
        status.textContent = register.dataset.sayUnsupported;
        return;
      }
      status.textContent = register.dataset.sayWorking;
      try {
        const o = await options("/passkeys/options", register.querySelector('input[name="csrf"]').value);
        o.challenge = b64.toBuffer(o.challenge);
        o.user.id = b64.toBuffer(o.user.id);
        o.excludeCredentials = o.excludeCredentials.map((c) => ({ ...c, id: b64.toBuffer(c.id) }));
        const made = await navigator.credentials.create({ publicKey: o });
        set(register, "id", made.id);
        set(register, "clientDataJSON", b64.of(made.response.clientDataJSON));
        set(register, "attestationObject", b64.of(made.response.attestationObject));
        const transports = made.response.getTransports ? made.response.getTransports() : [];
        set(register, "transports", transports.join(","));
        register.submit();
      } catch (e) {
        status.textContent = `${register.dataset.sayCancelled} (${e.message || e})`;
      }
    });
  }

  // ---- sign-in (/login) ----
  const login = document.getElementById("passkey-login");
  if (login && window.PublicKeyCredential) {
    const status = document.getElementById("passkey-login-status");
    const csrf = login.querySelector('input[name="csrf"]').value;
    let pending = null;

    const answer = (got) => {
      set(login, "id", got.id);
      set(login, "clientDataJSON", b64.of(got.response.clientDataJSON));
      set(login, "authenticatorData", b64.of(got.response.authenticatorData));
      set(login, "signature", b64.of(got.response.signature));
      set(login, "userHandle", got.response.userHandle ? b64.of(got.response.userHandle) : "");
      login.submit();
    };

    // Each request keeps its own controller: the autofill's request (asked when the user name field gets the
    // focus) may still be fetching its options when the button is pressed; it then must stop, not go on to
    // navigator.credentials.get under the button's controller, where it held the browser's one pending request
    // and the button's was refused (seen on a loaded machine: the sign-in never left the login page).
    const ask = async (mediation) => {
      if (pending) pending.abort();
      const controller = new AbortController();
      pending = controller;
      const o = await options("/login/passkey/options", csrf);
      if (controller.signal.aborted) throw new DOMException("superseded by another passkey request", "AbortError");
      o.challenge = b64.toBuffer(o.challenge);
      const request = { publicKey: o, signal: controller.signal };
      if (mediation) request.mediation = mediation;
      return navigator.credentials.get(request);
    };

    login.querySelector("button").addEventListener("click", async () => {
      status.textContent = login.dataset.sayWorking;
      try {
        answer(await ask(null));
      } catch (e) {
        status.textContent = `${login.dataset.sayCancelled} (${e.message || e})`;
      }
    });

    // The browser offers the person's passkeys in the user name field's autofill (conditional UI). Asked when
    // the field first gets the focus, not at every page load: a card login (most logins) then costs no passkey
    // challenge and no request.
    const username = document.getElementById("username");
    if (username && PublicKeyCredential.isConditionalMediationAvailable) {
      username.addEventListener(
        "focus",
        async () => {
          if (!(await PublicKeyCredential.isConditionalMediationAvailable())) return;
          try {
            answer(await ask("conditional"));
          } catch (e) {
            // Aborted by the button: the other ways in stay. Anything else is said (the button still works).
            if (e && e.name !== "AbortError") {
              status.textContent = `${login.dataset.sayCancelled} (${e.message || e})`;
            }
          }
        },
        { once: true },
      );
    }
  }
})();
