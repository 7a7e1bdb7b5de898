// Forms that call GraphQL mutations from the browser (same API as tools, with the session
// cookie). Each error the API returns is shown next to the input its `field` names.
(function () {
  "use strict";

  function gql(query, variables) {
    return fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-requested-with": "heliograph" },
      body: JSON.stringify({ query: query, variables: variables || {} })
    }).then(function (r) { return r.json(); });
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for], .form-error").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function showError(form, field, message) {
    var slot = field && form.querySelector('[data-error-for="' + field + '"]');
    if (!slot) slot = form.querySelector(".form-error");
    if (!slot) { slot = document.createElement("p"); slot.className = "error form-error";
      slot.setAttribute("role", "alert"); form.appendChild(slot); }
    slot.textContent = message;
    var input = field && form.querySelector('[name="' + field + '"]');
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  function convert(el) {
    var v = el.value, type = el.dataset.type || el.type;
    if (type === "checkbox") return el.checked;
    if (v === "" && el.dataset.optional !== undefined) return undefined;
    if (type === "number" || type === "int") return v === "" ? null : parseInt(v, 10);
    if (type === "datetime-local") return v ? new Date(v).toISOString() : null;
    if (type === "nullable") return v === "" ? null : v;
    return v;
  }

  // name="x" → input.x; name="impact:<id>" → components[]; name="ids:x" (checkbox) → x[]
  function collect(form) {
    var input = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.dataset.skip !== undefined) return;
      if (el.type === "radio" && !el.checked) return;
      if (el.name.indexOf("impact:") === 0) {
        if (!el.value) return;
        (input.components = input.components || []).push({ componentId: el.name.slice(7), impact: el.value });
        return;
      }
      if (el.name.indexOf("ids:") === 0) {
        var key = el.name.slice(4);
        input[key] = input[key] || [];
        if (el.checked) input[key].push(el.value);
        return;
      }
      var value = convert(el);
      if (value !== undefined) input[el.name] = value;
    });
    if (form.dataset.alwaysComponents !== undefined) input.components = input.components || [];
    return input;
  }

  function fill(template, data) {
    return template.replace(/\{([\w.]+)\}/g, function (_, path) {
      return path.split(".").reduce(function (o, k) { return o == null ? o : o[k]; }, data);
    });
  }

  function submit(form, extra) {
    var name = form.dataset.mutation;
    var type = form.dataset.inputType || name.charAt(0).toUpperCase() + name.slice(1) + "Input";
    var select = form.dataset.select ? " ... on " + name.charAt(0).toUpperCase() + name.slice(1) +
      "Payload { " + form.dataset.select + " }" : "";
    var query = "mutation Run($input: " + type + "!) { " + name + "(input: $input) { __typename" +
      select + " ... on Error { code message field } } }";
    var input = collect(form);
    if (extra) extra(input);
    else if (form.heliographExtra) form.heliographExtra(input);
    clearErrors(form);
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    return gql(query, { input: input }).then(function (body) {
      if (button) button.disabled = false;
      if (body.errors && body.errors.length) { showError(form, null, body.errors[0].message); return null; }
      var result = body.data && body.data[name];
      if (!result) { showError(form, null, "No answer from the server"); return null; }
      if (!/Payload$/.test(result.__typename)) { showError(form, result.field, result.message); return null; }
      var done = form.querySelector(".form-message");
      if (done && form.dataset.done) done.textContent = form.dataset.done;
      if (form.dataset.next) location.assign(fill(form.dataset.next, result));
      else if (form.dataset.reload !== undefined) location.reload();
      form.dispatchEvent(new CustomEvent("mutation-done", { detail: result }));
      return result;
    }, function () {
      if (button) button.disabled = false;
      showError(form, null, "The server could not be reached; try again.");
      return null;
    });
  }

  function bind(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      submit(form);
    });
  }

  window.heliograph = { gql: gql, submit: submit, showError: showError, clearErrors: clearErrors };
  document.querySelectorAll("form[data-mutation]").forEach(bind);
})();
