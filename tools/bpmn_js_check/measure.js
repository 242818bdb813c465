// Runs inside the page, after bpmn-js's viewer bundle (window.BpmnJS). Defines
//   window.bpmnJsCheck(xml, options) -> Promise<report>
// which imports `xml` into a bpmn-js Viewer, fits the view to the diagram at zoom 1 and
// measures, with the browser's own text layout, every text bpmn-js drew:
//   - task titles: the <text class="djs-label"> inside each task (getBBox, one width per
//     <tspan> line) against the task's bounds, its 7 px padding and its type icon;
//   - external labels (sequence flows, gateways, events, groups): the drawn text against its
//     BPMNLabel box, the shapes, the other labels, the flows and the group borders;
//   - each flow label's distance to its own flow and to the nearest other flow.
// Coordinates in the report are diagram coordinates (the BPMNDI ones).
/* global BpmnJS */
(function () {
  'use strict';

  const TASK_PADDING = 7; // bpmn-js's padding around a task's title
  const TOLERANCE = 0.5; // px of rounding forgiven in every comparison

  const round = (v) => Math.round(v * 100) / 100;
  const rect = (x, y, width, height) => ({ x: round(x), y: round(y), width: round(width), height: round(height) });
  const right = (b) => b.x + b.width;
  const bottom = (b) => b.y + b.height;

  /** Interiors overlap by more than the tolerance; returns the overlap or null. */
  function overlap(a, b) {
    const w = Math.min(right(a), right(b)) - Math.max(a.x, b.x);
    const h = Math.min(bottom(a), bottom(b)) - Math.max(a.y, b.y);
    return w > TOLERANCE && h > TOLERANCE ? { width: round(w), height: round(h) } : null;
  }

  /** How far `inner` sticks out of `outer` on each side (0 when inside). */
  function outside(inner, outer) {
    return {
      left: round(Math.max(0, outer.x - inner.x)),
      right: round(Math.max(0, right(inner) - right(outer))),
      top: round(Math.max(0, outer.y - inner.y)),
      bottom: round(Math.max(0, bottom(inner) - bottom(outer))),
    };
  }
  const sticksOut = (o) => Math.max(o.left, o.right, o.top, o.bottom) > TOLERANCE;

  function pointRectDistance(p, b) {
    const dx = Math.max(b.x - p.x, 0, p.x - right(b));
    const dy = Math.max(b.y - p.y, 0, p.y - bottom(b));
    return Math.hypot(dx, dy);
  }

  function pointSegmentDistance(p, a, c) {
    const dx = c.x - a.x;
    const dy = c.y - a.y;
    const len = dx * dx + dy * dy;
    const t = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
    return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
  }

  /** The segment a-c passes through the interior of b (Liang-Barsky). */
  function segmentCrosses(a, c, b) {
    const l = b.x + TOLERANCE, r = right(b) - TOLERANCE, t = b.y + TOLERANCE, btm = bottom(b) - TOLERANCE;
    if (l >= r || t >= btm) return false;
    const dx = c.x - a.x, dy = c.y - a.y;
    let lo = 0, hi = 1;
    for (const [p, q] of [[-dx, a.x - l], [dx, r - a.x], [-dy, a.y - t], [dy, btm - a.y]]) {
      if (p === 0) {
        if (q < 0) return false;
      } else {
        const s = q / p;
        if (p < 0) lo = Math.max(lo, s); else hi = Math.min(hi, s);
        if (lo > hi) return false;
      }
    }
    return hi - lo > 1e-9;
  }

  /** Distance between a flow (its waypoints) and a box; 0 when the flow runs through it. */
  function flowDistance(waypoints, b) {
    let best = Infinity;
    const corners = [{ x: b.x, y: b.y }, { x: right(b), y: b.y }, { x: b.x, y: bottom(b) }, { x: right(b), y: bottom(b) }];
    for (let i = 0; i + 1 < waypoints.length; i++) {
      const a = waypoints[i], c = waypoints[i + 1];
      if (segmentCrosses(a, c, b)) return 0;
      best = Math.min(best, pointRectDistance(a, b), pointRectDistance(c, b));
      for (const corner of corners) best = Math.min(best, pointSegmentDistance(corner, a, c));
    }
    return round(best);
  }

  /** The drawn text of a graphics element: lines, per-line widths and the bbox in diagram
   * coordinates (the gfx is translated to `origin`). */
  function drawnText(gfx, origin) {
    const text = gfx.querySelector('text.djs-label');
    if (!text) return null;
    const tspans = Array.from(text.querySelectorAll('tspan'));
    const lines = tspans.map((t) => t.textContent);
    if (!lines.some((l) => l.trim())) return null;
    // The visible extent of each line: SVG draws a line's trailing space (diagram-js keeps
    // it in the <tspan> but measures the line without it), which takes no ink.
    const box = text.getBBox();
    const widths = tspans.map((t) => {
      const visible = t.textContent.replace(/\s+$/, '').length;
      return visible ? round(t.getSubStringLength(0, visible)) : 0;
    });
    const lefts = tspans.map((t) => t.x.baseVal.length ? t.x.baseVal.getItem(0).value : 0);
    const left = Math.min(...lefts);
    const inkRight = Math.max(...lefts.map((x, i) => x + widths[i]));
    return {
      lines,
      widths,
      drawnWidths: tspans.map((t) => round(t.getComputedTextLength())),
      fontSize: parseFloat(getComputedStyle(text).fontSize),
      fontFamily: getComputedStyle(text).fontFamily,
      bbox: rect(origin.x + left, origin.y + box.y, inkRight - left, box.height),
    };
  }

  /** The visible box of each line of a drawn text, in diagram coordinates. */
  function lineBoxes(gfx, origin) {
    const text = gfx.querySelector('text.djs-label');
    return Array.from(text.querySelectorAll('tspan')).map((t) => {
      const visible = t.textContent.replace(/\s+$/, '').length;
      const b = t.getBBox();
      const x = t.x.baseVal.length ? t.x.baseVal.getItem(0).value : b.x;
      return rect(origin.x + x, origin.y + b.y, visible ? t.getSubStringLength(0, visible) : 0, b.height);
    });
  }

  /** The box of a task's type icon (user, service ... marks in its top-left corner). */
  function iconBox(gfx, element) {
    const visual = gfx.querySelector('.djs-visual');
    if (!visual) return null;
    let box = null;
    for (const child of Array.from(visual.children)) {
      if (child.tagName === 'text' || child.tagName === 'rect') continue;
      const b = child.getBBox();
      if (!b.width && !b.height) continue;
      if (b.y > element.height / 2 || b.x > element.width / 2) continue; // markers at the bottom
      const x = element.x + b.x, y = element.y + b.y;
      box = box
        ? rect(Math.min(box.x, x), Math.min(box.y, y), Math.max(right(box), x + b.width) - Math.min(box.x, x), Math.max(bottom(box), y + b.height) - Math.min(box.y, y))
        : rect(x, y, b.width, b.height);
    }
    return box;
  }

  /** Advance widths (1/1000 em) of `chars` in the font bpmn-js uses, measured the way
   * diagram-js measures (canvas measureText) at 1000 px and at the label sizes. */
  function charWidths(chars) {
    const ctx = document.createElement('canvas').getContext('2d');
    const out = {};
    // Kerning: what a pair of printable ASCII characters measures less than its two halves.
    ctx.font = 'normal 1000px Arial, sans-serif';
    const single = {};
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
    for (const ch of ascii) single[ch] = ctx.measureText(ch).width;
    out.kerning = {};
    for (const a of ascii) {
      for (const b of ascii) {
        const k = ctx.measureText(a + b).width - single[a] - single[b];
        if (Math.abs(k) > 0.5) out.kerning[a + b] = Math.round(k * 10) / 10;
      }
    }
    for (const size of [1000, 12, 11]) {
      ctx.font = `normal ${size}px Arial, sans-serif`;
      out[size] = {};
      for (const ch of chars) out[size][ch] = ctx.measureText(ch).width * (size === 1000 ? 1 : 1000 / size);
    }
    return out;
  }

  /** The lines bpmn-js's text renderer draws for each {text, width, size} case (size 12:
   * a task title, 11: an external label), wrapped at `width` px with no padding. */
  window.bpmnJsWrap = function (cases) {
    const renderer = new BpmnJS({ container: document.createElement('div') }).get('textRenderer');
    return cases.map(({ text, width, size }) => {
      const style = size === 11 ? renderer.getExternalStyle() : renderer.getDefaultStyle();
      const element = renderer.createText(text, { box: { width, height: 100 }, style, padding: 0 });
      return Array.from(element.querySelectorAll('tspan')).map((t) => t.textContent);
    });
  };

  window.bpmnJsCheck = async function (xml, options = {}) {
    const pad = options.pad ?? 20;
    const container = document.getElementById('canvas');
    container.innerHTML = '';
    if (window.viewer) window.viewer.destroy();
    const viewer = new BpmnJS({ container });
    window.viewer = viewer;
    const report = { warnings: [], error: null, findings: [] };
    try {
      const result = await viewer.importXML(xml);
      report.warnings = (result.warnings || []).map((w) => String(w.message));
    } catch (err) {
      report.error = String(err && err.message ? err.message : err);
      report.warnings = ((err && err.warnings) || []).map((w) => String(w.message));
      return report;
    }
    await document.fonts.ready;
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const root = canvas.getRootElement();

    // Zoom 1, the diagram's top-left corner `pad` px from the page's.
    const inner = canvas.viewbox().inner;
    const view = rect(inner.x - pad, inner.y - pad, Math.ceil(inner.width + 2 * pad), Math.ceil(inner.height + 2 * pad));
    container.style.width = `${view.width}px`;
    container.style.height = `${view.height}px`;
    canvas.resized();
    canvas.viewbox({ x: view.x, y: view.y, width: view.width, height: view.height });
    report.view = view;
    report.zoom = canvas.zoom();

    const flows = registry.filter((e) => e.waypoints && e.type === 'bpmn:SequenceFlow');
    const shapes = registry.filter((e) => !e.waypoints && e.type !== 'label' && e !== root && e.type !== 'bpmn:Group');
    const groups = registry.filter((e) => e.type === 'bpmn:Group');
    const bounds = (e) => rect(e.x, e.y, e.width, e.height);
    const name = (e) => {
      const bo = e.businessObject || {};
      return (e.type === 'bpmn:Group' ? bo.categoryValueRef && bo.categoryValueRef.value : bo.name) || '';
    };
    report.counts = {};
    for (const e of registry.getAll()) {
      if (e === root || e.type === 'label') continue;
      report.counts[e.type] = (report.counts[e.type] || 0) + 1;
    }

    // Task titles.
    report.tasks = [];
    for (const task of shapes.filter((e) => /Task$|^bpmn:CallActivity$|^bpmn:SubProcess$/.test(e.type))) {
      const gfx = registry.getGraphics(task);
      const text = drawnText(gfx, task);
      if (!text) continue;
      const box = bounds(task);
      const padded = rect(box.x + TASK_PADDING, box.y + TASK_PADDING, box.width - 2 * TASK_PADDING, box.height - 2 * TASK_PADDING);
      const entry = { id: task.id, name: name(task), bounds: box, ...text, icon: iconBox(gfx, task) };
      report.tasks.push(entry);
      const out = outside(text.bbox, box);
      if (sticksOut(out)) report.findings.push({ kind: 'task-text-overflows-task', ids: [task.id], text: name(task), by: out });
      const widest = Math.max(...text.widths);
      if (widest > padded.width + TOLERANCE) {
        report.findings.push({ kind: 'task-text-wider-than-padding', ids: [task.id], text: name(task), width: widest, room: padded.width });
      }
      if (entry.icon) {
        // The title's lines are centred; a wide first line of three can reach the type icon.
        const o = overlap(entry.icon, text.bbox);
        const lines = o ? lineBoxes(registry.getGraphics(task), task) : [];
        const under = lines.map((b) => overlap(entry.icon, b)).find(Boolean);
        if (under) report.findings.push({ kind: 'task-text-under-icon', ids: [task.id], text: name(task), overlap: under });
      }
    }

    // External labels.
    report.labels = [];
    for (const label of registry.filter((e) => e.type === 'label')) {
      const owner = label.labelTarget;
      const text = drawnText(registry.getGraphics(label), label);
      if (!text) continue;
      const entry = { id: owner.id, type: owner.type, name: name(owner), bounds: bounds(label), ...text };
      report.labels.push(entry);
    }
    for (const entry of report.labels) {
      const t = entry.bbox;
      if (entry.lines.length > 2) {
        report.findings.push({ kind: 'label-more-than-two-lines', ids: [entry.id], text: entry.name, lines: entry.lines });
      }
      const out = outside(t, entry.bounds);
      if (sticksOut(out)) report.findings.push({ kind: 'label-text-outside-its-box', ids: [entry.id], text: entry.name, by: out });
      for (const shape of shapes) {
        if (shape.id === entry.id) continue;
        const o = overlap(t, bounds(shape));
        if (o) report.findings.push({ kind: 'label-over-shape', ids: [entry.id, shape.id], text: entry.name, overlap: o });
      }
      for (const group of groups) {
        const g = bounds(group);
        if (overlap(t, g) && sticksOut(outside(t, g))) {
          report.findings.push({ kind: 'label-across-group-border', ids: [entry.id, group.id], text: entry.name });
        }
      }
      for (const other of report.labels) {
        if (other === entry || other.id < entry.id) continue;
        const o = overlap(t, other.bbox);
        if (o) report.findings.push({ kind: 'label-over-label', ids: [entry.id, other.id], overlap: o });
      }
      for (const flow of flows) {
        if (flowDistance(flow.waypoints, t) === 0) {
          report.findings.push({ kind: 'flow-through-label', ids: [flow.id, entry.id], text: entry.name });
        }
      }
      if (entry.type === 'bpmn:SequenceFlow') {
        const own = flows.find((f) => f.id === entry.id);
        entry.ownDistance = flowDistance(own.waypoints, t);
        let nearest = null;
        for (const flow of flows) {
          if (flow === own) continue;
          const d = flowDistance(flow.waypoints, t);
          if (!nearest || d < nearest.distance) nearest = { id: flow.id, distance: d };
        }
        entry.nearestOther = nearest;
        if (nearest && nearest.distance <= entry.ownDistance) {
          report.findings.push({ kind: 'label-nearer-other-flow', ids: [entry.id, nearest.id], text: entry.name, own: entry.ownDistance, other: nearest.distance });
        }
      }
    }
    if (options.calibrate) {
      report.charWidths = charWidths(options.chars || '');
    }
    return report;
  };
})();
