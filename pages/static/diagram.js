// Draws each BPMN diagram of the page (a cycle's, or two versions compared) with the
// vendored bpmn-js viewer and marks the elements its marks URL names: each list of ids
// gets the marker picycle-<name>; "flows" names connections taken by their ends. The
// page's lists say the same for screen readers and without script: if anything here
// fails, the diagram stays hidden and the lists remain.
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
      .filter(([name]) => name !== "flows")
      .forEach(([name, ids]) => add(ids, `picycle-${name}`));
    // The path names a connection by its ends; the diagram, by the sequence flow's id.
    const taken = new Set((marks.flows || []).map(([source, target]) => `${source} ${target}`));
    registry
      .filter((element) => element.type === "bpmn:SequenceFlow")
      .forEach((flow) => {
        const { sourceRef, targetRef } = flow.businessObject;
        if (taken.has(`${sourceRef.id} ${targetRef.id}`)) canvas.addMarker(flow, "picycle-taken");
      });
  }
}

if (typeof window.BpmnJS === "function") {
  document.querySelectorAll(".diagram[data-xml][data-marks]").forEach(drawDiagram);
}
