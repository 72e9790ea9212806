// The process modeler (admins). bpmn-js's modeler draws and edits the diagram; the panel
// beside it edits, in plain words, what picycle reads from the selected element; the form
// editor edits a user task's JSON Schema beside a preview the server draws. Check and
// Deploy post the edited files, which the server lays over the version's bundle. Without
// script the page still lists the files, offers the bundle and takes an upload.
"use strict";
(() => {
  const root = document.getElementById("modeler");
  if (!root || typeof window.BpmnJS !== "function") return;
  const texts = JSON.parse(root.dataset.texts);
  const modelName = root.dataset.model;
  const csrf = document.querySelector("input[name='csrf_token']").value;
  const status = root.querySelector(".status");
  const panel = root.querySelector(".panel-body");
  const problemsBox = document.getElementById("problems");

  // What the engine reads from the spiffworkflow namespace (engine/spiff/), declared so that
  // bpmn-js reads and writes these elements as the files on disk have them.
  const SPIFFWORKFLOW = {
    name: "SpiffWorkflow",
    uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
    prefix: "spiffworkflow",
    xml: { tagAlias: "lowerCase" },
    associations: [],
    types: [
      ...["InstructionsForEndUser", "CalledDecisionId", "PreScript", "PostScript"].map((name) => ({
        name,
        superClass: ["Element"],
        properties: [{ name: "value", isBody: true, type: "String" }],
      })),
      {
        name: "Properties",
        superClass: ["Element"],
        properties: [{ name: "properties", type: "Property", isMany: true }],
      },
      {
        name: "Property",
        superClass: ["Element"],
        properties: [
          { name: "name", isAttr: true, type: "String" },
          { name: "value", isAttr: true, type: "String" },
        ],
      },
      {
        name: "ScriptsOnInstances",
        extends: ["bpmn:MultiInstanceLoopCharacteristics"],
        properties: [{ name: "scriptsOnInstances", isAttr: true, type: "Boolean" }],
      },
    ],
  };
  const FORMS = "forms/";
  const TIMER_KINDS = ["timeDuration", "timeDate", "timeCycle"];

  const canvasBox = root.querySelector(".canvas");
  const modeler = new window.BpmnJS({
    container: canvasBox,
    moddleExtensions: { spiffworkflow: SPIFFWORKFLOW },
  });
  const modeling = modeler.get("modeling");
  const moddle = modeler.get("moddle");
  const registry = modeler.get("elementRegistry");
  const canvas = modeler.get("canvas");
  const selection = modeler.get("selection");

  // The bundle's files as deployed, and as edited: only changed ones are posted.
  const original = new Map();
  const current = new Map();
  const fileBase = root.dataset.fileBase;
  const fileUrl = (name) => fileBase + name.split("/").map(encodeURIComponent).join("/");

  async function load() {
    const names = JSON.parse(root.dataset.files);
    await Promise.all(
      names.map(async (name) => {
        const response = await fetch(fileUrl(name), { credentials: "same-origin" });
        if (!response.ok) throw new Error(`${name}: ${response.status}`);
        const text = await response.text();
        original.set(name, text);
        current.set(name, text);
      }),
    );
    root.hidden = false; // the modeler measures its container
    await modeler.importXML(current.get(modelName));
    fitBesidePalette();
  }

  // The whole diagram in view in the part of the canvas the tool palette leaves free (it
  // floats over the canvas's left edge), never larger than its natural size.
  function fitBesidePalette() {
    canvas.zoom("fit-viewport");
    const palette = canvasBox.querySelector(".djs-palette");
    const { inner, outer } = canvas.viewbox();
    if (!palette || !(inner.width > 0 && inner.height > 0)) return;
    const margin = 16;
    const left =
      palette.getBoundingClientRect().right - canvasBox.getBoundingClientRect().left + margin;
    const width = outer.width - left - margin;
    const height = outer.height - 2 * margin;
    if (width < outer.width / 3 || height <= 0) return; // too narrow: the plain fit
    const scale = Math.min(width / inner.width, height / inner.height, 1);
    canvas.viewbox({
      x: inner.x - left / scale,
      y: inner.y - margin / scale,
      width: outer.width / scale,
      height: outer.height / scale,
    });
  }

  // --- reading and writing what picycle reads ---------------------------------------------

  const extensionOf = (bo, type) =>
    ((bo.extensionElements && bo.extensionElements.get("values")) || []).find(
      (value) => value.$type === type,
    );

  function extensions(element) {
    const bo = element.businessObject;
    if (!bo.extensionElements) {
      const created = moddle.create("bpmn:ExtensionElements", { values: [] });
      modeling.updateProperties(element, { extensionElements: created });
    }
    return bo.extensionElements;
  }

  function setExtensionText(element, type, value) {
    const found = extensionOf(element.businessObject, type);
    if (found && value) {
      modeling.updateModdleProperties(element, found, { value });
    } else if (found || value) {
      const holder = extensions(element);
      const others = holder.get("values").filter((item) => item !== found);
      const values = value ? [...others, moddle.create(type, { value })] : others;
      modeling.updateModdleProperties(element, holder, { values });
    }
  }

  function propertyOf(bo, name) {
    const holder = extensionOf(bo, "spiffworkflow:Properties");
    return holder ? holder.get("properties").find((property) => property.name === name) : null;
  }

  function setProperty(element, name, value) {
    let holder = extensionOf(element.businessObject, "spiffworkflow:Properties");
    if (!holder && !value) return;
    if (!holder) {
      holder = moddle.create("spiffworkflow:Properties", { properties: [] });
      const ext = extensions(element);
      modeling.updateModdleProperties(element, ext, { values: [...ext.get("values"), holder] });
    }
    const found = holder.get("properties").find((property) => property.name === name);
    if (found && value) {
      modeling.updateModdleProperties(element, found, { value });
    } else if (found || value) {
      const others = holder.get("properties").filter((property) => property !== found);
      const properties = value
        ? [...others, moddle.create("spiffworkflow:Property", { name, value })]
        : others;
      modeling.updateModdleProperties(element, holder, { properties });
    }
  }

  const expression = (body) => (body ? moddle.create("bpmn:FormalExpression", { body }) : undefined);
  const timerOf = (bo) =>
    (bo.eventDefinitions || []).find((definition) => definition.$type === "bpmn:TimerEventDefinition");

  // --- the panel --------------------------------------------------------------------------

  let counter = 0;
  function control(key, label, value, onInput, { multiline = false, code = false, after = null } = {}) {
    const id = `panel-${++counter}`;
    const field = document.createElement("div");
    field.className = "field";
    field.dataset.field = key;
    const caption = document.createElement("label");
    caption.htmlFor = id;
    caption.textContent = label;
    const input = document.createElement(multiline ? "textarea" : "input");
    input.id = id;
    input.value = value || "";
    input.dir = "auto"; // names and instructions in any language; code is set to ltr below
    if (multiline) input.rows = code ? 6 : 4;
    if (code) {
      input.dir = "ltr";
      input.spellcheck = false;
      input.classList.add("code");
    }
    input.addEventListener("input", () => onInput(input.value));
    field.append(caption, input);
    if (after) field.append(after);
    return field;
  }

  // A field naming what another editor opens (a form, a decision), with its button beside.
  function opener(key, label, value, opening, open, write) {
    let named = value || "";
    const edit = button(opening, () => open(named));
    edit.dataset.action = `edit-${key}`;
    edit.disabled = !named;
    const typed = (text) => {
      named = text.trim();
      edit.disabled = !named;
      write(named);
    };
    return control(key, label, named, typed, { code: true, after: edit });
  }

  function button(label, onClick) {
    const made = document.createElement("button");
    made.type = "button";
    made.className = "secondary";
    made.textContent = label;
    made.addEventListener("click", onClick);
    return made;
  }

  const fill = (template, values) =>
    Object.entries(values).reduce((text, [key, value]) => text.replace(`{${key}}`, value), template);
  const is = (element, type) => element.businessObject.$instanceOf(type);
  const nameOf = (element) => element.businessObject.name || element.id;

  function showPanel(element) {
    panel.replaceChildren();
    if (!element || element.type === "label") {
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = texts.nothing;
      panel.append(hint);
      return;
    }
    const bo = element.businessObject;
    const id = document.createElement("p");
    id.className = "meta";
    id.textContent = fill(texts.id, { id: element.id });
    panel.append(id);
    const rename = (value) => modeling.updateProperties(element, { name: value });
    const nameLabel = is(element, "bpmn:Lane") ? texts.laneGroup : texts.name;
    panel.append(control("name", nameLabel, bo.name, rename));
    if (is(element, "bpmn:UserTask")) userTask(element);
    if (is(element, "bpmn:BusinessRuleTask")) {
      const decision = extensionOf(bo, "spiffworkflow:CalledDecisionId");
      panel.append(
        opener("decision", texts.decision, decision && decision.value, texts.editDecision, openDecision,
          (value) => setExtensionText(element, "spiffworkflow:CalledDecisionId", value)),
      );
    }
    if (is(element, "bpmn:ScriptTask")) {
      const write = (value) => modeling.updateProperties(element, { script: value });
      panel.append(control("script", texts.script, bo.script, write, { multiline: true, code: true }));
    }
    if (is(element, "bpmn:SequenceFlow") && conditional(element)) {
      panel.append(conditionControl(element, texts.condition));
    }
    if (is(element, "bpmn:Gateway")) {
      element.outgoing.filter(conditional).forEach((flow) => {
        const label = fill(texts.conditionTo, { target: `'${nameOf(flow.target)}'` });
        panel.append(conditionControl(flow, label));
      });
    }
    const timer = timerOf(bo);
    if (timer) timerControls(element, timer);
  }

  // A flow out of a gateway that decides (not a parallel one) carries a condition.
  const conditional = (flow) =>
    flow.source && (is(flow.source, "bpmn:ExclusiveGateway") || is(flow.source, "bpmn:InclusiveGateway"));

  function conditionControl(flow, label) {
    const body = flow.businessObject.conditionExpression && flow.businessObject.conditionExpression.body;
    const write = (value) =>
      modeling.updateProperties(flow, { conditionExpression: expression(value.trim()) });
    const field = control("condition", label, body, write, { code: true });
    field.dataset.flow = flow.id;
    return field;
  }

  function userTask(element) {
    const bo = element.businessObject;
    const instructions = extensionOf(bo, "spiffworkflow:InstructionsForEndUser");
    panel.append(
      control("instructions", texts.instructions, instructions && instructions.value, (value) =>
        setExtensionText(element, "spiffworkflow:InstructionsForEndUser", value),
      { multiline: true }),
    );
    const form = propertyOf(bo, "formJsonSchemaFilename");
    panel.append(
      opener("form", texts.form, form && form.value, texts.editForm, (file) => openForm(file, nameOf(element)),
        (value) => setProperty(element, "formJsonSchemaFilename", value)),
    );
    const group = propertyOf(bo, "candidateGroup");
    panel.append(
      control("candidateGroup", texts.candidateGroup, group && group.value, (value) =>
        setProperty(element, "candidateGroup", value.trim()),
      ),
    );
  }

  function timerControls(element, timer) {
    const kind = TIMER_KINDS.find((name) => timer[name]) || "timeDuration";
    const id = `panel-${++counter}`;
    const field = document.createElement("div");
    field.className = "field";
    const caption = document.createElement("label");
    caption.htmlFor = id;
    caption.textContent = texts.timerKind;
    field.dataset.field = "timerKind";
    const choice = document.createElement("select");
    choice.id = id;
    TIMER_KINDS.forEach((name) => choice.add(new Option(texts[name], name, false, name === kind)));
    field.append(caption, choice);
    let value = timer[kind] ? timer[kind].body : "";
    const write = () => {
      const changes = Object.fromEntries(TIMER_KINDS.map((name) => [name, undefined]));
      changes[choice.value] = expression(value.trim());
      modeling.updateModdleProperties(element, timer, changes);
    };
    choice.addEventListener("change", write);
    panel.append(field, control("timerValue", texts.timerValue, value, (typed) => { value = typed; write(); }, { code: true }));
  }

  // --- the form editor --------------------------------------------------------------------

  const formEditor = root.querySelector(".form-editor");
  const schemaBox = formEditor.querySelector("textarea");
  const preview = formEditor.querySelector(".preview-body");
  let editing = null;
  let waiting = null;

  function openForm(file, title) {
    editing = FORMS + file;
    if (!current.has(editing)) {
      const starter = { title, type: "object", properties: {}, required: [] };
      current.set(editing, JSON.stringify(starter, null, 2) + "\n");
    }
    formEditor.querySelector(".file").textContent = editing;
    schemaBox.value = current.get(editing);
    formEditor.hidden = false;
    schemaBox.focus();
    refreshPreview();
  }

  schemaBox.addEventListener("input", () => {
    current.set(editing, schemaBox.value);
    clearTimeout(waiting);
    waiting = setTimeout(refreshPreview, 400); // as the typing pauses
  });

  formEditor.querySelector("[data-action='close-form']").addEventListener("click", () => {
    formEditor.hidden = true;
    editing = null;
  });

  async function refreshPreview() {
    const body = new FormData();
    body.append("csrf_token", csrf);
    body.append("schema", schemaBox.value);
    try {
      const response = await fetch(root.dataset.preview, { method: "POST", body, credentials: "same-origin" });
      preview.innerHTML = await response.text(); // drawn and escaped by the server
      const invalid = response.status === 422;
      schemaBox.setAttribute("aria-invalid", String(invalid));
      const described = invalid ? "form-schema-hint form-schema-problems" : "form-schema-hint";
      schemaBox.setAttribute("aria-describedby", described);
    } catch (error) {
      preview.textContent = texts.failed;
    }
  }

  // --- the decision table editor: the server reads the table and writes the cells back ----

  const decisionEditor = root.querySelector(".decision-editor");
  const decisionBody = decisionEditor.querySelector(".decision-body");
  let decisionFile = null;
  let decisionWait = null;
  let decisionUnsaved = false;

  function dmnFileOf(decisionId) {
    return [...current.keys()].find((name) => {
      if (!name.endsWith(".dmn")) return false;
      const parsed = new DOMParser().parseFromString(current.get(name), "application/xml");
      return [...parsed.documentElement.children].some(
        (child) => child.localName === "decision" && child.getAttribute("id") === decisionId,
      );
    });
  }

  // The table's cells are posted when ``changes`` is given ({} for the cells alone).
  async function decisionRequest(changes) {
    const body = new FormData();
    body.append("csrf_token", csrf);
    body.append("dmn", current.get(decisionFile));
    if (changes) {
      decisionBody.querySelectorAll("input[name]").forEach((input) => body.append(input.name, input.value));
      Object.entries(changes).forEach(([name, value]) => body.append(name, value));
    }
    const response = await fetch(root.dataset.decision, { method: "POST", body, credentials: "same-origin" });
    return response.json();
  }

  async function openDecision(decisionId) {
    decisionFile = dmnFileOf(decisionId) || null;
    decisionEditor.querySelector(".file").textContent = decisionFile || "";
    decisionEditor.hidden = false;
    if (!decisionFile) {
      decisionBody.textContent = fill(texts.noDecision, { id: decisionId });
      return;
    }
    decisionBody.innerHTML = (await decisionRequest(null)).html; // drawn and escaped by the server
    decisionEditor.scrollIntoView({ block: "nearest" });
  }

  async function saveDecision(changes = {}) {
    clearTimeout(decisionWait);
    decisionUnsaved = false;
    const answer = await decisionRequest(changes);
    if (answer.xml) current.set(decisionFile, answer.xml);
    // Rows added or removed, or a refusal: the table as the server now has it.
    if (Object.keys(changes).length || !answer.xml) decisionBody.innerHTML = answer.html;
  }

  decisionBody.addEventListener("input", () => {
    decisionUnsaved = true;
    clearTimeout(decisionWait);
    decisionWait = setTimeout(saveDecision, 400);
  });

  decisionBody.addEventListener("click", (event) => {
    const pressed = event.target.closest("button[data-action]");
    if (!pressed) return;
    const adding = pressed.dataset.action === "add-rule";
    saveDecision(adding ? { add_rule: "1" } : { remove_rule: pressed.value }).then(() => {
      const rows = decisionBody.querySelectorAll("tbody tr");
      const next = adding ? rows[rows.length - 1] : null;
      const focus = next ? next.querySelector("td input") : decisionBody.querySelector("[data-action='add-rule']");
      if (focus) focus.focus();
    });
  });

  decisionEditor.querySelector("[data-action='close-decision']").addEventListener("click", () => {
    decisionEditor.hidden = true;
  });

  // --- check and deploy -------------------------------------------------------------------

  async function send(url) {
    if (decisionUnsaved) await saveDecision();
    const { xml } = await modeler.saveXML({ format: true });
    current.set(modelName, xml);
    const body = new FormData();
    body.append("csrf_token", csrf);
    current.forEach((text, name) => {
      if (name === modelName || original.get(name) !== text) {
        body.append("files", new Blob([text]), name);
      }
    });
    const response = await fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const type = response.headers.get("Content-Type") || "";
    if (!type.startsWith("application/json")) throw new Error(`${url}: ${response.status}`);
    return response.json();
  }

  let marked = [];
  function showProblems(problems) {
    marked.forEach(([id, marker]) => canvas.removeMarker(id, marker));
    marked = [];
    const list = problemsBox.querySelector(".problems");
    list.replaceChildren(
      ...problems.map((problem) => {
        const item = document.createElement("li");
        item.className = `problem ${problem.severity}`;
        const severity = document.createElement("span");
        severity.className = "severity";
        severity.textContent = problem.severity === "error" ? texts.error : texts.warning;
        const where = document.createElement("span");
        where.className = "where";
        where.dir = "ltr";
        where.textContent =
          problem.file + (problem.line ? `:${problem.line}` : "") +
          (problem.element_id ? ` [${problem.element_id}]` : "");
        const message = document.createElement("span");
        message.className = "message";
        message.textContent = problem.message;
        const element = problem.file === modelName && problem.element_id && registry.get(problem.element_id);
        if (element) {
          const marker = problem.severity === "error" ? "picycle-problem" : "picycle-warning";
          canvas.addMarker(element.id, marker);
          marked.push([element.id, marker]);
          const link = document.createElement("button");
          link.type = "button";
          link.className = "link";
          link.append(severity, " ", where, " ", message);
          link.addEventListener("click", () => {
            selection.select(element);
            canvas.scrollToElement(element);
            canvasBox.scrollIntoView({ block: "nearest" });
          });
          item.append(link);
        } else {
          item.append(severity, " ", where, " ", message);
        }
        return item;
      }),
    );
    problemsBox.querySelector(".no-problems").hidden = problems.length > 0;
    problemsBox.hidden = false;
  }

  async function act(action) {
    status.textContent = action === "check" ? texts.checking : texts.deploying;
    try {
      const answer = await send(root.dataset[action]);
      if (action === "deploy" && answer.valid) {
        window.location.assign(answer.url);
        return;
      }
      showProblems(answer.problems);
      status.textContent = answer.valid ? texts.valid : texts.invalid;
    } catch (error) {
      status.textContent = texts.failed;
      console.warn("picycle:", error);
    }
  }

  root.querySelectorAll(".modeler-actions [data-action]").forEach((control) => {
    control.addEventListener("click", () => act(control.dataset.action));
  });
  modeler.on("selection.changed", ({ newSelection }) => showPanel(newSelection.length === 1 ? newSelection[0] : null));

  load().catch((error) => {
    root.hidden = true;
    const note = document.createElement("p");
    note.className = "notice";
    note.textContent = texts.loadFailed;
    root.after(note);
    console.warn("picycle: the modeler could not load:", error);
  });
})();
