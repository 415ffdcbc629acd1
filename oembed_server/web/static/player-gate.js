/* Lead capture gate: the portal's HubSpot form, drawn natively inside the player (no
 * HubSpot script), before the media plays, after some seconds of it, or when it ends.
 * Loaded only by players that have a gate (config.gate, set by the server).
 *
 * - The viewer's answers go to this server (gate.submitUrl), which passes them to HubSpot;
 *   HubSpot's field errors come back and are shown next to their fields; when HubSpot
 *   cannot take them the gate says so once, keeps what was typed and offers a retry.
 * - A submitted gate is not shown again in this browser for that form (localStorage); a
 *   skipped one (skippable gates) not for the rest of the browser session (sessionStorage).
 * - dnt=1 or Global Privacy Control: the form still works, without the visitor token.
 * - Accessible: a modal dialog named by its heading, labels on every control, required
 *   marks, errors tied to their fields (aria-describedby, aria-invalid), focus kept inside,
 *   Escape skips when skipping is allowed.
 */
(function (root) {
  "use strict";

  var player = root.mediaPlayer || {};
  var config = player.config || {};
  var gate = config.gate;
  var element = player.element;
  if (!gate || !gate.form || !element || typeof element.play !== "function") {
    return;
  }
  var form = gate.form;
  var KEY = "mediaGate:" + form.formId;
  var params = new URLSearchParams(root.location.search);
  var dnt = Boolean(config.events && config.events.dnt) || params.get("dnt") === "1" ||
    root.navigator.globalPrivacyControl === true;
  var AUTOCOMPLETE = { email: "email", firstname: "given-name", lastname: "family-name", phone: "tel",
                       mobilephone: "tel", company: "organization", jobtitle: "organization-title",
                       city: "address-level2", zip: "postal-code", country: "country-name" };
  var MESSAGES = { required: "This field is required.", email: "Enter a valid email address.",
                   number: "Enter a number.", consent: "Your consent is needed to submit this form." };

  function stored(storage) {
    try {
      return root[storage].getItem(KEY);
    } catch (error) {
      return null; // storage blocked (third-party frames in some browsers): ask again
    }
  }

  function remember(kind) {
    try {
      root[kind === "submitted" ? "localStorage" : "sessionStorage"].setItem(KEY, kind);
    } catch (error) { /* not remembered: the gate shows again next time */ }
  }

  var done = stored("localStorage") === "submitted" || stored("sessionStorage") === "skipped";
  var dialog = null;
  var resumeAfter = false;
  var sending = false;
  var counter = 0;

  function post(url, body) {
    return root.fetch(url, { method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                             headers: { "Content-Type": "application/json" } });
  }

  // HubSpot's texts are rich text; only their words are shown.
  function plain(html) {
    if (!html) {
      return "";
    }
    return new root.DOMParser().parseFromString(html, "text/html").body.textContent.trim();
  }

  function node(tag, attributes, text) {
    var made = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (attributes[name] !== null && attributes[name] !== undefined && attributes[name] !== false) {
        made.setAttribute(name, attributes[name] === true ? "" : attributes[name]);
      }
    });
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  function labelText(parent, text, required) {
    parent.appendChild(document.createTextNode(text));
    if (required) {
      parent.appendChild(node("span", { "class": "gate__required", "aria-hidden": "true" }, " *"));
    }
    return parent;
  }

  // One field: its control(s), label, help and error line. Returns {field, read(), error}.
  function drawField(field) {
    var id = "gate-field-" + (++counter);
    var wrap = node("div", { "class": "gate__field", "data-field": field.name });
    var error = node("p", { "class": "gate__error", id: id + "-error", hidden: true });
    var help = field.description ? node("p", { "class": "gate__help", id: id + "-help" }, field.description) : null;
    var described = (help ? id + "-help " : "") + id + "-error";
    var controls = [];
    var type = field.fieldType;
    if (type === "multiple_checkboxes" || type === "radio") {
      var group = node("fieldset", { "class": "gate__group", "aria-describedby": described,
                                     "aria-required": field.required && type === "radio" ? "true" : null });
      group.appendChild(labelText(node("legend", {}), field.label, field.required));
      field.options.forEach(function (option, index) {
        var optionId = id + "-" + index;
        var input = node("input", { type: type === "radio" ? "radio" : "checkbox", id: optionId, name: id,
                                    value: option.value });
        controls.push(input);
        var label = node("label", { "for": optionId, "class": "gate__choice" });
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + option.label));
        group.appendChild(label);
      });
      if (help) {
        group.appendChild(help);
      }
      group.appendChild(error);
      wrap.appendChild(group);
    } else if (type === "single_checkbox") {
      var box = node("input", { type: "checkbox", id: id, "aria-describedby": described,
                                required: field.required, "aria-required": field.required ? "true" : null });
      controls.push(box);
      var boxLabel = node("label", { "for": id, "class": "gate__choice" });
      boxLabel.appendChild(box);
      labelText(boxLabel, " " + field.label, field.required);
      wrap.appendChild(boxLabel);
      if (help) {
        wrap.appendChild(help);
      }
      wrap.appendChild(error);
    } else {
      wrap.appendChild(labelText(node("label", { "for": id, "class": "gate__label" }), field.label, field.required));
      var control;
      var common = { id: id, name: field.name, "aria-describedby": described, required: field.required,
                     "aria-required": field.required ? "true" : null,
                     autocomplete: AUTOCOMPLETE[field.name] || null };
      if (type === "multi_line_text") {
        control = node("textarea", Object.assign({ rows: 3 }, common));
      } else if (type === "dropdown") {
        control = node("select", common);
        control.appendChild(node("option", { value: "" }, field.placeholder || "Please choose"));
        field.options.forEach(function (option) {
          control.appendChild(node("option", { value: option.value }, option.label));
        });
      } else {
        var inputType = { email: "email", phone: "tel", mobile_phone: "tel", number: "text" }[type] || "text";
        control = node("input", Object.assign({ type: inputType, placeholder: field.placeholder || null,
                                                inputmode: type === "number" ? "decimal" : null }, common));
      }
      controls.push(control);
      wrap.appendChild(control);
      if (help) {
        wrap.appendChild(help);
      }
      wrap.appendChild(error);
    }
    function read() {
      if (type === "multiple_checkboxes") {
        return controls.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
      }
      if (type === "radio") {
        var chosen = controls.filter(function (c) { return c.checked; })[0];
        return chosen ? chosen.value : "";
      }
      if (type === "single_checkbox") {
        return controls[0].checked ? "true" : "";
      }
      return controls[0].value.trim();
    }
    return { field: field, wrap: wrap, controls: controls, error: error, read: read };
  }

  function showError(entry, message) {
    entry.error.textContent = message;
    entry.error.hidden = !message;
    entry.controls.forEach(function (control) {
      if (message) {
        control.setAttribute("aria-invalid", "true");
      } else {
        control.removeAttribute("aria-invalid");
      }
    });
  }

  function checkLocally(entries) {
    var first = null;
    entries.forEach(function (entry) {
      var value = entry.read();
      var type = entry.field.fieldType;
      var empty = Array.isArray(value) ? value.length === 0 : value === "";
      var message = "";
      if (entry.field.required && empty) {
        message = entry.consent ? MESSAGES.consent : MESSAGES.required;
      } else if (!empty && type === "email" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) {
        message = MESSAGES.email;
      } else if (!empty && type === "number" && !/^-?[0-9]+([.,][0-9]+)?$/.test(value)) {
        message = MESSAGES.number;
      }
      showError(entry, message);
      if (message && !first) {
        first = entry;
      }
    });
    return first;
  }

  function build() {
    var overlay = node("div", { "class": "gate", role: "dialog", "aria-modal": "true",
                                "aria-labelledby": "gate-heading",
                                "aria-describedby": gate.text ? "gate-text" : null });
    var panel = node("form", { "class": "gate__panel", novalidate: true });
    panel.appendChild(node("h1", { "class": "gate__heading", id: "gate-heading", tabindex: "-1" },
                           gate.heading || form.name || "Tell us about yourself"));
    if (gate.text) {
      panel.appendChild(node("p", { "class": "gate__text", id: "gate-text" }, gate.text));
    }
    var anyRequired = form.fields.some(function (f) { return f.required; });
    if (anyRequired) {
      panel.appendChild(node("p", { "class": "gate__note" }, "Fields marked * are required."));
    }
    var entries = form.fields.map(drawField);
    entries.forEach(function (entry) { panel.appendChild(entry.wrap); });

    var consent = form.consent || {};
    var consentEntries = [];
    if (consent.type === "explicit_consent_to_process" || consent.type === "implicit_consent_to_process") {
      var legal = node("div", { "class": "gate__legal" });
      if (consent.text) {
        legal.appendChild(node("p", {}, plain(consent.text)));
      }
      (consent.checkboxes || []).forEach(function (box) {
        var entry = drawField({ name: "consent:" + box.subscriptionTypeId, label: plain(box.label),
                                fieldType: "single_checkbox", required: box.required, options: [] });
        entry.consent = { subscriptionTypeId: box.subscriptionTypeId };
        consentEntries.push(entry);
        legal.appendChild(entry.wrap);
      });
      if (consent.processingText) {
        legal.appendChild(node("p", {}, plain(consent.processingText)));
      }
      if (consent.type === "explicit_consent_to_process") {
        var process = drawField({ name: "consent:process", fieldType: "single_checkbox", required: true, options: [],
                                  label: plain(consent.processLabel) || "I agree to the processing of my data." });
        process.consent = { process: true };
        consentEntries.push(process);
        legal.appendChild(process.wrap);
      }
      if (consent.privacyText) {
        legal.appendChild(node("p", { "class": "gate__privacy" }, plain(consent.privacyText)));
      }
      panel.appendChild(legal);
    }

    var status = node("p", { "class": "gate__status", role: "alert" });
    panel.appendChild(status);
    var actions = node("div", { "class": "gate__actions" });
    var submit = node("button", { type: "submit", "class": "gate__submit" }, form.submitLabel || "Submit");
    actions.appendChild(submit);
    if (gate.skippable) {
      var skip = node("button", { type: "button", "class": "gate__skip" }, "Skip");
      skip.addEventListener("click", skipGate);
      actions.appendChild(skip);
    }
    panel.appendChild(actions);
    overlay.appendChild(panel);

    panel.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) {
        return;
      }
      status.textContent = "";
      var all = entries.concat(consentEntries);
      var invalid = checkLocally(all);
      if (invalid) {
        invalid.controls[0].focus();
        return;
      }
      var values = {};
      entries.forEach(function (entry) {
        var value = entry.read();
        if (Array.isArray(value) ? value.length : value !== "") {
          values[entry.field.name] = value;
        }
      });
      var given = { process: false, communications: {} };
      consentEntries.forEach(function (entry) {
        if (entry.consent.process) {
          given.process = entry.read() === "true";
        } else {
          given.communications[entry.consent.subscriptionTypeId] = entry.read() === "true";
        }
      });
      var body = { token: gate.token, values: values, consent: given, dnt: dnt,
                   pageUri: params.get("hs_page_url") || document.referrer || null,
                   pageName: params.get("hs_page_name") || null };
      if (!dnt && params.get("hs_utk")) {
        body.hutk = params.get("hs_utk");
      }
      sending = true;
      submit.setAttribute("aria-disabled", "true");
      post(gate.submitUrl, body).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          return { status: response.status, answer: answer };
        });
      }).then(function (result) {
        sending = false;
        submit.removeAttribute("aria-disabled");
        if (result.status === 200) {
          remember("submitted");
          close(plain(result.answer.message) || "Thank you.");
          return;
        }
        if (result.status === 422 && Array.isArray(result.answer.errors)) {
          var unplaced = [];
          var firstWrong = null;
          result.answer.errors.forEach(function (problem) {
            var entry = entries.filter(function (e) { return e.field.name === problem.field; })[0];
            if (entry) {
              showError(entry, problem.message);
              firstWrong = firstWrong || entry;
            } else {
              unplaced.push(problem.message);
            }
          });
          status.textContent = unplaced.join(" ");
          if (firstWrong) {
            firstWrong.controls[0].focus();
          }
          return;
        }
        unavailable();
      }, function () {
        sending = false;
        submit.removeAttribute("aria-disabled");
        unavailable();
      });
    });

    function unavailable() {
      // One message, however often it fails; what was typed stays in the fields.
      status.textContent = "The form could not be sent just now. Your answers are kept: please try again.";
      submit.textContent = "Try again";
    }

    overlay.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && gate.skippable) {
        event.preventDefault();
        skipGate();
      } else if (event.key === "Tab") {
        var focusable = Array.prototype.filter.call(
          overlay.querySelectorAll("input, select, textarea, button"), function (n) { return !n.disabled; });
        var first = focusable[0];
        var last = focusable[focusable.length - 1];
        if (event.shiftKey && document.activeElement === first) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && document.activeElement === last) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    return overlay;
  }

  var announcer = node("p", { "class": "gate-announcer", role: "status" });
  document.body.appendChild(announcer);

  function holder() {
    return element.closest(".player") || element;
  }

  function openGate(resume) {
    if (dialog || done) {
      return;
    }
    resumeAfter = resume;
    dialog = build();
    holder().setAttribute("inert", "");
    holder().setAttribute("aria-hidden", "true");
    document.body.appendChild(dialog);
    root.mediaPlayerGate.open = true;
    var firstControl = dialog.querySelector("input, select, textarea");
    (firstControl || dialog.querySelector("button")).focus();
    post(gate.eventUrl, { token: gate.token, kind: "shown" }).catch(function () {});
  }

  function close(message) {
    done = true;
    if (dialog) {
      dialog.parentNode.removeChild(dialog);
      dialog = null;
    }
    root.mediaPlayerGate.open = false;
    holder().removeAttribute("inert");
    holder().removeAttribute("aria-hidden");
    announcer.textContent = message || "";
    element.focus();
    if (resumeAfter) {
      var attempt = element.play();
      if (attempt && typeof attempt.catch === "function") {
        attempt.catch(function () {});
      }
    }
  }

  function skipGate() {
    remember("skipped");
    post(gate.eventUrl, { token: gate.token, kind: "skipped" }).catch(function () {});
    close("");
  }

  root.mediaPlayerGate = { open: false, at: gate.at };

  if (gate.at === "before") {
    element.addEventListener("play", function () {
      if (!done) {
        element.pause();
        openGate(true);
      }
    });
    if (!element.paused && !done) { // autoplay began before this deferred script ran
      element.pause();
      openGate(true);
    }
  } else if (gate.at === "after") {
    element.addEventListener("ended", function () {
      openGate(false);
    });
  } else {
    var at = Number(gate.at);
    element.addEventListener("timeupdate", function () {
      if (!done && !dialog && !element.seeking && element.currentTime >= at) {
        element.pause();
        openGate(true);
      }
    });
    element.addEventListener("play", function () {
      if (dialog) {
        element.pause();
      }
    });
  }
})(window);
