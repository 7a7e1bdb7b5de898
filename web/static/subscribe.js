// The status page's subscribe form: the `subscribe` mutation, errors next to their inputs.
(function () {
  "use strict";
  var form = document.getElementById("subscribe-form");
  if (!form || !window.fetch) return;
  var choices = form.querySelector(".choices");
  // The page's language (data-words, from the server): English below when absent.
  var T = {};
  try { T = JSON.parse(form.dataset.words || "{}"); } catch (e) { T = {}; }
  function said(text) { return (T.messages && T.messages[text]) || text; }
  function scope() {
    var checked = form.querySelector("input[name=scope]:checked");
    return checked ? checked.value : "page";
  }
  function sync() { if (choices) choices.hidden = scope() !== "components"; }
  form.querySelectorAll("input[name=scope]").forEach(function (r) { r.addEventListener("change", sync); });
  sync();
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var input = { pageSlug: form.elements.pageSlug.value, email: form.elements.email.value };
    if (form.elements.eventId) input.eventId = form.elements.eventId.value;
    if (scope() === "components") {
      input.componentIds = Array.prototype.filter.call(
        form.querySelectorAll("input[name=componentIds]"), function (c) { return c.checked; }
      ).map(function (c) { return c.value; });
    }
    var message = form.querySelector(".form-message");
    form.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
    message.textContent = "";
    if (input.componentIds && !input.componentIds.length) {  // never "everything" by accident
      form.querySelector('[data-error-for="componentIds"]').textContent =
        T.noComponent || "Choose at least one component, or follow the whole page.";
      return;
    }
    fetch("/graphql", {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-requested-with": "heliograph" },
      body: JSON.stringify({
        query: "mutation Subscribe($input: SubscribeInput!) { subscribe(input: $input) { __typename " +
          "... on SubscribePayload { message } ... on Error { code message field } } }",
        variables: { input: input }
      })
    }).then(function (r) { return r.json(); }).then(function (body) {
      var result = body.data && body.data.subscribe;
      if (!result) { message.textContent = (body.errors && body.errors[0].message) || T.error || "Something went wrong"; return; }
      if (result.__typename === "SubscribePayload") { message.textContent = said(result.message); form.reset(); sync(); return; }
      var slot = result.field && form.querySelector('[data-error-for="' + result.field + '"]');
      (slot || message).textContent = result.message;
    }, function () { message.textContent = T.unreachable || "The server could not be reached; try again."; });
  });
})();
