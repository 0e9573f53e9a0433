/* The composer's JSON API client (maps/api.py): CSRF, refusals shown in words, and a pending
   count so the analyst (and a test) can tell when every edit has reached the server.
   Requests go one at a time, in the order the analyst made the edits: every answer is the whole
   draft as the server left it, and the composer redraws from it, so an answer overtaking an
   earlier one (the page's first GET answered after an "Add layer" POST, say) would redraw a
   stale draft and drop the edit from the preview. */

function csrfToken() {
  const cookie = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1];
  return cookie || document.querySelector("[name=csrfmiddlewaretoken]").value;
}

export function composerApi(statusBox, errorBox) {
  const csrf = csrfToken();
  let pending = 0;
  let queue = Promise.resolve();
  function track(delta) {
    pending += delta;
    statusBox.dataset.pending = String(pending);
    statusBox.textContent = pending ? "Saving…" : "All changes saved";
  }
  return function api(url, method, body) {
    errorBox.textContent = "";
    track(1);
    const answer = queue.then(() => fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined,
    })).then((r) => r.json().then((data) => {
      if (!r.ok) { errorBox.textContent = data.detail || "The change was refused."; throw new Error(data.detail); }
      return data;
    }));
    queue = answer.catch(() => {});  // a refused edit does not hold back the ones after it
    return answer.finally(() => track(-1));
  };
}
