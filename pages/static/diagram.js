// Draws each BPMN diagram of the page (a cycle's, its audit trail's, or two versions
// compared) with the vendored bpmn-js viewer and marks the elements its marks URL names:
// each list of ids gets the marker picycle-<name>; "flows" names connections taken by
// their ends (pairs, not ids); "counts", "acts" and "flow_counts" (the audit trail's) put how often each
// step and connection was passed on it. The page's lists say the same for screen readers
// and without script: if anything here fails, the diagram stays hidden and the lists remain.
"use strict";
function drawDiagram(box) {
  const legend = box.parentElement.querySelector(".legend");

  const fetched = (url, read) =>
    fetch(url, { credentials: "same-origin" }).then((response) => {
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      return read(response);
    });

  Promise.all([
    fetched(box.dataset.xml, (response) => response.text()),
    fetched(box.dataset.marks, (response) => response.json()),
  ])
    .then(async ([xml, marks]) => {
      box.hidden = false; // the viewer measures its container to fit the diagram in
      const viewer = new window.BpmnJS({ container: box });
      await viewer.importXML(xml);
      mark(viewer, marks);
      if (marks.counts) count(viewer, marks);
      fit(viewer.get("canvas"));
      if (legend) legend.hidden = false;
    })
    .catch((error) => {
      box.hidden = true;
      box.replaceChildren();
      console.warn("picycle: the diagram could not be drawn:", error);
    });

  // As tall as the diagram is at the container's width (within bounds), then fitted: the
  // whole model in view, and the viewer's watermark in its corner, always visible.
  function fit(canvas) {
    const { inner } = canvas.viewbox();
    if (inner.width > 0) {
      const height = (box.clientWidth * inner.height) / inner.width + 40;
      box.style.blockSize = `${Math.min(Math.max(height, 200), 640)}px`;
      canvas.resized();
    }
    canvas.zoom("fit-viewport");
  }

  function mark(viewer, marks) {
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const add = (ids, marker) =>
      ids.forEach((id) => {
        if (registry.get(id)) canvas.addMarker(id, marker);
      });
    Object.entries(marks)
      .filter(([, ids]) => Array.isArray(ids) && ids.every((id) => typeof id === "string"))
      .forEach(([name, ids]) => add(ids, `picycle-${name}`));
    const taken = new Set((marks.flows || []).map(([source, target]) => `${source} ${target}`));
    sequenceFlows(registry, taken).forEach(([flow]) => canvas.addMarker(flow, "picycle-taken"));
  }

  // The path names a connection by its ends; the diagram, by the sequence flow's id: each
  // flow of the diagram whose ends are a key of ``byEnds`` ("source target"), with its value.
  function sequenceFlows(registry, byEnds) {
    const lookup = byEnds instanceof Map ? byEnds : new Map([...byEnds].map((key) => [key, key]));
    return registry
      .filter((element) => element.type === "bpmn:SequenceFlow")
      .map((flow) => {
        const { sourceRef, targetRef } = flow.businessObject;
        return [flow, lookup.get(`${sourceRef.id} ${targetRef.id}`)];
      })
      .filter(([, value]) => value !== undefined);
  }

  // How often each step and connection was passed, and who acted on each step: a badge on
  // each (its title names them; the page's table says all of it without sight).
  function count(viewer, marks) {
    const overlays = viewer.get("overlays");
    const registry = viewer.get("elementRegistry");
    const badge = (times, title) => {
      const made = document.createElement("span");
      made.className = "picycle-times";
      made.textContent = String(times);
      if (title) made.title = title;
      return made;
    };
    Object.entries(marks.counts).forEach(([id, times]) => {
      if (times && registry.get(id)) {
        const acts = (marks.acts[id] || []).join("\n");
        overlays.add(id, { position: { top: -12, right: 12 }, html: badge(times, acts) });
      }
    });
    const times = new Map(marks.flow_counts.map(([source, target, n]) => [`${source} ${target}`, n]));
    sequenceFlows(registry, times).forEach(([flow, n]) => {
      const points = flow.waypoints;
      const middle = points[Math.floor(points.length / 2)];
      const left = middle.x - Math.min(...points.map((point) => point.x));
      const top = middle.y - Math.min(...points.map((point) => point.y));
      overlays.add(flow, { position: { top: top - 10, left: left - 10 }, html: badge(n) });
    });
  }
}

if (typeof window.BpmnJS === "function") {
  document.querySelectorAll(".diagram[data-xml][data-marks]").forEach(drawDiagram);
}
