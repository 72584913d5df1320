// Passkeys and security keys (no inline script: the CSP allows only /static). A form with
// data-webauthn="create" or "get" and data-webauthn-options (the server's options JSON, base64url fields) is
// answered by the browser's authenticator on submit: the credential goes, as base64url JSON, into the form's
// hidden `webauthn_response` field and the form is posted as usual (its CSRF field included).
(() => {
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));
  const creationOptions = (o) => ({
    ...o, challenge: toBytes(o.challenge), user: { ...o.user, id: toBytes(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  });
  const requestOptions = (o) => ({ ...o, challenge: toBytes(o.challenge), allowCredentials: descriptors(o.allowCredentials) });
  const encode = (credential) => {
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type, response,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
    });
  };
  const fail = (form, error) => {
    const status = form.querySelector("[role=alert]");
    if (status) {
      status.textContent = `${form.dataset.webauthnFailed || ""} (${error && error.name ? error.name : error})`;
      status.hidden = false;
    }
    for (const button of form.querySelectorAll("button")) button.disabled = false;
  };
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-webauthn]");
    if (!form) return;
    const field = form.querySelector("input[name=webauthn_response]");
    if (!field || field.value) return; // answered: post it
    event.preventDefault();
    if (!window.PublicKeyCredential || !navigator.credentials) {
      fail(form, "NotSupportedError");
      return;
    }
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    const options = JSON.parse(form.dataset.webauthnOptions);
    const asked = form.dataset.webauthn === "create"
      ? navigator.credentials.create({ publicKey: creationOptions(options) })
      : navigator.credentials.get({ publicKey: requestOptions(options) });
    asked.then((credential) => {
      field.value = encode(credential);
      form.submit();
    }, (error) => fail(form, error));
  });
})();
