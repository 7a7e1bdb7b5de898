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
    // a list of ticked boxes (name="ids:x") is pointed at by its first box on offer
    var input = field && (form.querySelector('[name="' + field + '"]') ||
      form.querySelector('[name="ids:' + field + '"]:not([disabled])'));
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  // Times typed in the console are the page's wall-clock time (data-zone), not the browser's.
  function zoneOffset(ms, zone) {  // how far `zone` is ahead of UTC at the instant `ms`
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
    }).formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute,
      +parts.second) - Math.floor(ms / 1000) * 1000;
  }
  function zonedDate(value, zone) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
    if (!m) return null;
    if (!zone) return new Date(value);
    var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    var guess = wall - zoneOffset(wall, zone);
    return new Date(wall - zoneOffset(guess, zone));
  }
  function timeWords(date, zone) {
    var options = { day: "numeric", month: "short", year: "numeric", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
    if (zone) options.timeZone = zone;
    return new Intl.DateTimeFormat("en-GB", options).format(date);
  }
  // under each such input: what the typed time means, in the page's zone and the browser's
  function preview(el) {
    var box = el.closest(".retro-update, .field");
    var out = (el.id && document.querySelector('[data-preview-for="' + el.id + '"]')) ||
      (box && box.querySelector("[data-preview]"));
    if (!out) return;
    var date = zonedDate(el.value, el.dataset.zone);
    if (!date || isNaN(date.getTime())) { out.textContent = ""; return; }
    var own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    out.textContent = "Means " + timeWords(date, el.dataset.zone) + " (" + el.dataset.zone + ")" +
      (own && own !== el.dataset.zone ? "; " + timeWords(date) + " in your browser's zone (" + own + ")" : "") + ".";
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-zone]")) preview(event.target);
  });

  function convert(el) {
    var v = el.value, type = el.dataset.type || el.type;
    if (type === "checkbox") return el.checked;
    if (v === "" && el.dataset.optional !== undefined) return undefined;
    if (el.dataset.ifChanged !== undefined && v === el.defaultValue) return undefined;
    if (type === "number" || type === "int") return v === "" ? null : parseInt(v, 10);
    if (type === "datetime-local") return v ? zonedDate(v, el.dataset.zone).toISOString() : null;
    if (type === "nullable") return v === "" ? null : v;
    if (type === "words") return v.split(/[\s,]+/).filter(Boolean);
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
    // a form may refuse before anything is sent: {field, message}
    var refusal = form.heliographCheck && form.heliographCheck(input);
    if (refusal) { showError(form, refusal.field, refusal.message); return Promise.resolve(null); }
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
      else if (form.dataset.reload !== undefined) { remember(form); location.reload(); }
      form.dispatchEvent(new CustomEvent("mutation-done", { detail: result }));
      return result;
    }, function () {
      if (button) button.disabled = false;
      showError(form, null, "The server could not be reached; try again.");
      return null;
    });
  }

  // After a save reloads the page, focus comes back to the form that saved, with a word.
  var SAVED = "heliograph-saved";
  function remember(form) {
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-mutation]"));
    try {
      sessionStorage.setItem(SAVED, JSON.stringify({ path: location.pathname, id: form.id || "",
        index: forms.indexOf(form), mutation: form.dataset.mutation }));
    } catch (e) { /* no storage: focus starts at the top, as before */ }
  }
  function restore() {
    var saved;
    try {
      saved = JSON.parse(sessionStorage.getItem(SAVED) || "null");
      sessionStorage.removeItem(SAVED);
    } catch (e) { return; }
    if (!saved || saved.path !== location.pathname) return;
    var form = (saved.id && document.getElementById(saved.id)) ||
      document.querySelectorAll("form[data-mutation]")[saved.index];
    if (!form || form.dataset.mutation !== saved.mutation) {
      form = document.querySelector('form[data-mutation="' + saved.mutation + '"]');
    }
    if (!form) return;
    var say = form.querySelector(".form-message");
    if (!say) {
      say = document.createElement("p");
      say.className = "form-message";
      say.setAttribute("role", "status");
      form.appendChild(say);
    }
    say.textContent = "Saved.";
    var target = form.querySelector("[type=submit]") || form.querySelector("input, select, textarea");
    if (target) target.focus();
  }

  function bind(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
      submit(form);
    });
  }

  window.heliograph = { gql: gql, submit: submit, showError: showError, clearErrors: clearErrors,
                        zonedDate: zonedDate, preview: preview };
  document.querySelectorAll("form[data-mutation]").forEach(bind);
  restore();
})();
