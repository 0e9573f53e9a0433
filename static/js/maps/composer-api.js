/* The composer's JSON API client (maps/api.py): CSRF, refusals shown in words, and a pending
   count so the analyst (and a test) can tell when every edit has reached the server. */

function csrfToken() {
  const cookie = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1];
  return cookie || document.querySelector("[name=csrfmiddlewaretoken]").value;
}

export function composerApi(statusBox, errorBox) {
  const csrf = csrfToken();
  let pending = 0;
  function track(delta) {
    pending += delta;
    statusBox.dataset.pending = String(pending);
    statusBox.textContent = pending ? "Saving…" : "All changes saved";
  }
  return function api(url, method, body) {
    errorBox.textContent = "";
    track(1);
    return fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined,
    }).then((r) => r.json().then((data) => {
      if (!r.ok) { errorBox.textContent = data.detail || "The change was refused."; throw new Error(data.detail); }
      return data;
    })).finally(() => track(-1));
  };
}
