// Console helpers: template prefill, reordering, and the retrospective timeline rows.
(function () {
  "use strict";
  var hg = window.heliograph;

  // a template fills title, message, status and impacts; the manager can still change them
  var picker = document.querySelector("[data-template-picker]");
  var data = document.getElementById("templates-data");
  if (picker && data) {
    var templates = JSON.parse(data.textContent);
    var filled = {};  // what the last template put in each text field
    // a text the manager typed is never overwritten: only empty or template-filled fields
    var put = function (field, value) {
      if (!value || !field) return;
      if (field.value.trim() && field.value !== filled[field.name]) return;
      field.value = filled[field.name] = value;
    };
    picker.addEventListener("change", function () {
      var t = templates.filter(function (x) { return x.id === picker.value; })[0];
      if (!t) return;
      var form = picker.form;
      put(form.elements.title, t.title);
      put(form.elements.message, t.message);
      if (t.status && form.elements.status) form.elements.status.value = t.status;
      form.querySelectorAll("select[data-component-id]").forEach(function (s) { s.value = ""; });
      form.querySelectorAll("input[name='ids:componentIds']").forEach(function (c) { c.checked = false; });
      (t.components || []).forEach(function (impact) {
        var select = form.querySelector('select[data-component-id="' + impact.component.id + '"]');
        if (select) select.value = impact.impact;
        var box = form.querySelector("input[name='ids:componentIds'][value='" + impact.component.id + "']");
        if (box) box.checked = true;
      });
    });
  }

  // reorder components within their list, and groups on the page
  var editor = document.getElementById("component-editor");
  function mutate(name, type, input, form) {
    var query = "mutation($input: " + type + "!) { " + name + "(input: $input) { __typename " +
      "... on Error { message field } } }";
    return hg.gql(query, { input: input }).then(function (body) {
      var r = body.data && body.data[name];
      if (r && /Payload$/.test(r.__typename)) { location.reload(); return; }
      hg.showError(form, null, (r && r.message) || (body.errors && body.errors[0].message) || "Refused");
    });
  }
  if (editor) {
    var pageId = editor.dataset.pageId;
    editor.addEventListener("click", function (event) {
      var del = event.target.closest("button[data-delete]");
      if (del) {
        event.preventDefault();  // a submit button only for browsers without JavaScript
        if (!window.confirm("Delete " + del.dataset.what + "?")) return;
        var kind = del.dataset.delete;
        mutate(kind, kind.charAt(0).toUpperCase() + kind.slice(1) + "Input", { id: del.dataset.id }, del.form);
        return;
      }
      var button = event.target.closest("button[data-move], button[data-move-group]");
      if (!button) return;
      event.preventDefault();  // a submit button only for browsers without JavaScript
      var up = (button.dataset.move || button.dataset.moveGroup) === "up";
      if (button.dataset.move) {
        var item = button.closest("li"), list = item.parentElement;
        var sibling = up ? item.previousElementSibling : item.nextElementSibling;
        if (!sibling) return;
        if (up) list.insertBefore(item, sibling); else list.insertBefore(sibling, item);
        var ids = Array.prototype.map.call(list.querySelectorAll(":scope > li[data-id]"),
          function (li) { return li.dataset.id; });
        mutate("reorderComponents", "ReorderComponentsInput",
          { pageId: pageId, componentIds: ids, groupId: list.dataset.groupId || null }, button.form);
      } else {
        var section = button.closest(".group-editor");
        var other = up ? section.previousElementSibling : section.nextElementSibling;
        if (!other || !other.classList.contains("group-editor")) return;
        if (up) editor.insertBefore(section, other); else editor.insertBefore(other, section);
        var groupIds = Array.prototype.map.call(editor.querySelectorAll(".group-editor"),
          function (s) { return s.dataset.groupId; });
        mutate("reorderComponentGroups", "ReorderComponentGroupsInput",
          { pageId: pageId, groupIds: groupIds }, button.form);
      }
    });
  }

  // retrospective events: a list of dated updates
  var retro = document.getElementById("retrospective-form");
  if (retro) {
    var rowTemplate = document.getElementById("retro-update-row");
    var add = document.getElementById("add-retro-update");
    // adding and removing rows needs this script: the buttons are shown by it
    var showButtons = function () {
      retro.querySelectorAll("[data-remove-row]").forEach(function (b) { b.hidden = false; });
    };
    var addRow = function () {
      add.parentElement.insertBefore(rowTemplate.content.cloneNode(true), add);
      showButtons();
    };
    add.hidden = false;
    showButtons();
    add.addEventListener("click", addRow);
    retro.addEventListener("click", function (event) {
      if (event.target.matches("[data-remove-row]")) event.target.closest(".retro-update").remove();
    });
    // the page comes with one row (for a browser without JavaScript too)
    if (!retro.querySelector(".retro-update")) addRow();
    retro.heliographExtra = function (input) {
      input.updates = Array.prototype.map.call(retro.querySelectorAll(".retro-update"), function (row) {
        var at = row.querySelector("[data-part=at]").value;
        var when = at ? hg.zonedDate(at, row.querySelector("[data-part=at]").dataset.zone) : null;
        return { at: when ? when.toISOString() : null,
                 status: row.querySelector("[data-part=status]").value,
                 message: row.querySelector("[data-part=message]").value };
      });
    };
  }
})();

// a new API token is shown once, here
(function () {
  "use strict";
  var form = document.getElementById("token-form");
  if (!form) return;
  form.addEventListener("mutation-done", function (event) {
    var out = document.getElementById("new-token");
    out.textContent = event.detail.token;
    out.hidden = false;
  });
})();

// IM subscriptions: the components offered are the chosen page's; the whole page sends none
(function () {
  "use strict";
  var form = document.getElementById("im-subscribe-form");
  if (!form) return;
  var page = form.querySelector("[data-im-page]");
  var message = form.querySelector(".form-message");
  function sync() {
    var scope = form.querySelector("input[name=scope]:checked").value;
    form.querySelectorAll(".choices[data-page-slug]").forEach(function (choices) {
      var shown = scope === "components" && choices.dataset.pageSlug === page.value;
      choices.hidden = !shown;
      // disabled boxes are not sent (forms.js), so only this page's components go out
      choices.querySelectorAll("input").forEach(function (box) { box.disabled = !shown; });
    });
  }
  form.addEventListener("change", sync);
  form.addEventListener("submit", function () { message.textContent = ""; });
  form.heliographCheck = function (input) {
    var scope = form.querySelector("input[name=scope]:checked").value;
    if (scope === "components" && !(input.componentIds || []).length) {
      return { field: "componentIds", message: "Choose at least one component, or follow the whole page." };
    }
    return null;
  };
  // reload so the new subscription is listed under its destination; the message follows
  var KEY = "heliograph-im-subscribed";
  form.addEventListener("mutation-done", function (event) {
    try {
      sessionStorage.setItem(KEY, event.detail.message);
    } catch (e) {
      message.textContent = event.detail.message;  // no storage: say it here, no reload
      return;
    }
    location.reload();
  });
  try {
    var said = sessionStorage.getItem(KEY);
    if (said) { sessionStorage.removeItem(KEY); message.textContent = said; }
  } catch (e) { /* no storage, nothing carried over */ }
  sync();
})();

// Automation: show a new integration's token once; rules carry their matcher rows
(function () {
  "use strict";
  var integration = document.getElementById("integration-form");
  if (integration) {
    integration.addEventListener("mutation-done", function (event) {
      var out = document.getElementById("new-integration");
      out.textContent = "Token (shown once): " + event.detail.token + " — post to " +
        event.detail.integration.webhookUrl;
      out.hidden = false;
    });
  }
  var rule = document.getElementById("rule-form");
  if (!rule) return;
  rule.heliographExtra = function (input) {
    input.matchers = [];
    rule.querySelectorAll(".matcher").forEach(function (row) {
      var get = function (k) { return row.querySelector('[data-matcher="' + k + '"]').value; };
      if (get("label").trim()) input.matchers.push({ label: get("label"), op: get("op"), value: get("value") });
    });
  };
})();
