// Copy buttons (no inline script: the CSP allows only /static). A button `button.copy[data-copy=ID]` copies
// the text of element ID; it stays hidden without JavaScript, where the text itself can be selected.
(() => {
  const announce = (button, text) => {
    const status = document.getElementById(button.id + "-status");
    if (status) status.textContent = text;
  };
  const fallback = (source) => {
    // Plain-http origins have no navigator.clipboard: select the text and ask the browser to copy it.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return document.execCommand("copy");
  };
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.hidden = false;
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.copy[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const done = () => announce(button, button.dataset.copied || "✓");
    const tryFallback = () => announce(button, fallback(source) ? (button.dataset.copied || "✓") : (button.dataset.failed || ""));
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent.trim()).then(done, tryFallback);
    } else {
      tryFallback();
    }
  });
})();
