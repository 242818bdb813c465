#!/usr/bin/env node
// Render BPMN files with bpmn-js (the library behind bpmn.io and Camunda Modeler) in headless
// Chromium, the way bpmn.io opens them: `new BpmnJS({container}).importXML(xml)`, then
// `canvas.zoom('fit-viewport')` and a PNG screenshot. For every file it records
//   - the warnings (and any error) that bpmn-js's importXML returns,
//   - the warnings of bpmn-moddle's fromXML (the parser bpmn-js uses), run in Node,
//   - simple geometry checks of what was drawn: flow elements without a shape, shapes that
//     overlap, labels that overlap shapes or other labels, flows that cross unrelated shapes.
//
// Usage: node render.mjs [--out DIR] [--report FILE] [--saved DIR] [--viewer] [--strict] FILE.bpmn...
//   --out DIR      where the PNGs go (default: ../../docs/images); one <basename>.png per file
//   --report FILE  also write the JSON report to FILE
//   --saved DIR    also write what bpmn-js exports after the import (saveXML, as bpmn.io's
//                  "download" does) to DIR/<basename>.bpmn, to check a round trip
//   --viewer       use the read-only Viewer bundle instead of the Modeler bundle
//   --strict       also fail (exit 1) on geometry findings, not only on warnings / errors
// Exit code: 0 all clean, 1 a warning, an error (or, with --strict, a geometry finding), 2 usage.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { BpmnModdle } from 'bpmn-moddle';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const BPMN_JS_DIST = join(dirname(require.resolve('bpmn-js/package.json')), 'dist');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Blank space kept around the diagram in the screenshot, in px at zoom 1. */
const PAD = 40;
const MAX_WIDTH = 3200;
const MAX_HEIGHT = 2000;

function parseArgs(argv) {
  const opts = { out: resolve(HERE, '../../docs/images'), report: null, saved: null, viewer: false, strict: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' || arg === '--report' || arg === '--saved') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      opts[arg.slice(2)] = resolve(value);
    } else if (arg === '--viewer') {
      opts.viewer = true;
    } else if (arg === '--strict') {
      opts.strict = true;
    } else if (arg.startsWith('--')) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      opts.files.push(resolve(arg));
    }
  }
  if (opts.files.length === 0) throw new UsageError('no BPMN file given');
  return opts;
}

class UsageError extends Error {}

/** Warnings of bpmn-moddle's fromXML (unknown elements, unresolved references ...). */
async function moddleCheck(xml) {
  const moddle = new BpmnModdle();
  try {
    const { warnings } = await moddle.fromXML(xml, 'bpmn:Definitions');
    return { error: null, warnings: warnings.map(describeModdleWarning) };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err), warnings: (err.warnings || []).map(describeModdleWarning) };
  }
}

function describeModdleWarning(w) {
  return {
    message: w.message,
    elementId: (w.element && w.element.id) || null,
    elementType: (w.element && w.element.$type) || null,
    property: w.property || null,
    value: typeof w.value === 'string' ? w.value : null,
  };
}

// ---- runs inside the page -------------------------------------------------------------------

/* eslint-disable no-undef */
async function importInPage(xml) {
  const container = document.getElementById('canvas');
  container.innerHTML = '';
  if (window.modeler) window.modeler.destroy();
  const modeler = new BpmnJS({ container });
  window.modeler = modeler;
  let warnings = [];
  let error = null;
  try {
    const result = await modeler.importXML(xml);
    warnings = result.warnings || [];
  } catch (err) {
    error = String(err && err.message ? err.message : err);
    warnings = (err && err.warnings) || [];
  }
  const describe = (w) => ({
    message: w.message,
    elementId: (w.element && (w.element.id || (w.element.businessObject && w.element.businessObject.id))) || null,
    elementType: (w.element && w.element.$type) || null,
    error: w.error ? String(w.error.message || w.error) : null,
  });
  const out = { error, warnings: warnings.map(describe) };
  if (error) return out;

  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  const inner = canvas.viewbox().inner;
  out.bbox = { x: inner.x, y: inner.y, width: inner.width, height: inner.height };

  // Every flow element of every process should have been drawn.
  const definitions = modeler.getDefinitions();
  const flowElements = [];
  const collect = (container) => {
    for (const el of container.flowElements || []) {
      flowElements.push(el);
      if (el.flowElements) collect(el);
    }
  };
  for (const root of definitions.rootElements || []) {
    if (root.$type === 'bpmn:Process') collect(root);
  }
  out.counts = {};
  out.notDrawn = [];
  for (const el of flowElements) {
    out.counts[el.$type] = (out.counts[el.$type] || 0) + 1;
    if (!registry.get(el.id)) out.notDrawn.push({ id: el.id, type: el.$type });
  }

  // Geometry checks on what bpmn-js drew.
  const shapes = registry.filter((e) => !e.waypoints && !e.labelTarget && e.parent && e.type !== 'label' && e !== canvas.getRootElement());
  const labels = registry.filter((e) => e.type === 'label');
  const connections = registry.filter((e) => !!e.waypoints);
  const box = (e) => ({ x: e.x, y: e.y, w: e.width, h: e.height });
  const overlap = (a, b) => {
    const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    return w > 0 && h > 0 ? { w, h } : null;
  };
  const findings = [];
  for (let i = 0; i < shapes.length; i++) {
    for (let j = i + 1; j < shapes.length; j++) {
      const o = overlap(box(shapes[i]), box(shapes[j]));
      if (o) findings.push({ kind: 'shape-overlap', ids: [shapes[i].id, shapes[j].id], overlap: o });
    }
  }
  for (const label of labels) {
    const lb = box(label);
    const owner = label.labelTarget;
    if (!label.businessObject.name) continue;
    if (lb.w <= 0 || lb.h <= 0) findings.push({ kind: 'empty-label', ids: [owner.id] });
    for (const shape of shapes) {
      if (shape === owner) continue;
      const o = overlap(lb, box(shape));
      if (o) findings.push({ kind: 'label-over-shape', ids: [owner.id, shape.id], text: label.businessObject.name, overlap: o });
    }
    for (const other of labels) {
      if (other === label || !other.businessObject.name || other.id < label.id) continue;
      const o = overlap(lb, box(other));
      if (o) findings.push({ kind: 'label-over-label', ids: [owner.id, other.labelTarget.id], overlap: o });
    }
  }
  // A flow segment that runs through a shape other than its source and target.
  const crosses = (p, q, b) => {
    const inset = 2;
    const x1 = b.x + inset, x2 = b.x + b.w - inset, y1 = b.y + inset, y2 = b.y + b.h - inset;
    if (p.x === q.x) return p.x > x1 && p.x < x2 && Math.max(p.y, q.y) > y1 && Math.min(p.y, q.y) < y2;
    if (p.y === q.y) return p.y > y1 && p.y < y2 && Math.max(p.x, q.x) > x1 && Math.min(p.x, q.x) < x2;
    // Diagonal segment: sample it.
    for (let t = 0; t <= 1; t += 0.02) {
      const x = p.x + (q.x - p.x) * t, y = p.y + (q.y - p.y) * t;
      if (x > x1 && x < x2 && y > y1 && y < y2) return true;
    }
    return false;
  };
  for (const c of connections) {
    const wps = c.waypoints;
    if (wps.length < 2) findings.push({ kind: 'edge-without-waypoints', ids: [c.id] });
    for (let i = 0; i + 1 < wps.length; i++) {
      if (wps[i].x !== wps[i + 1].x && wps[i].y !== wps[i + 1].y) {
        findings.push({ kind: 'diagonal-segment', ids: [c.id], from: wps[i], to: wps[i + 1] });
      }
      for (const shape of shapes) {
        if (shape === c.source || shape === c.target) continue;
        if (crosses(wps[i], wps[i + 1], box(shape))) {
          findings.push({ kind: 'flow-through-shape', ids: [c.id, shape.id] });
        }
      }
    }
    // Flow ends should touch their shapes.
    const touches = (p, b) => p.x >= b.x - 1 && p.x <= b.x + b.w + 1 && p.y >= b.y - 1 && p.y <= b.y + b.h + 1;
    if (c.source && !touches(wps[0], box(c.source))) findings.push({ kind: 'flow-start-detached', ids: [c.id, c.source.id] });
    if (c.target && !touches(wps[wps.length - 1], box(c.target))) findings.push({ kind: 'flow-end-detached', ids: [c.id, c.target.id] });
  }
  out.findings = findings;
  return out;
}

async function saveInPage() {
  const { xml } = await window.modeler.saveXML({ format: true });
  return xml;
}

function fitInPage() {
  const canvas = window.modeler.get('canvas');
  canvas.resized(); // the page was just resized to the diagram
  canvas.zoom('fit-viewport', 'auto');
  return canvas.zoom();
}
/* eslint-enable no-undef */

// ---- driver ---------------------------------------------------------------------------------

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`render.mjs: ${err.message}\nusage: node render.mjs [--out DIR] [--report FILE] [--saved DIR] [--viewer] [--strict] FILE.bpmn...`);
      process.exit(2);
    }
    throw err;
  }
  mkdirSync(opts.out, { recursive: true });
  const bundle = join(BPMN_JS_DIST, opts.viewer ? 'bpmn-viewer.production.min.js' : 'bpmn-modeler.production.min.js');
  const userDataDir = mkdtempSync(join(tmpdir(), 'bpmn-render-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 600 },
  });
  const report = [];
  let failed = false;
  try {
    for (const file of opts.files) {
      const name = basename(file, extname(file));
      const xml = readFileSync(file, 'utf8');
      const entry = { file, name, moddle: await moddleCheck(xml) };

      const page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(String(err.message || err).split('\n')[0]));
      page.on('console', (msg) => {
        // bpmn-js logs what it could not import (e.g. a flow whose source has no shape).
        if (msg.type() === 'error' || msg.type() === 'warning') pageErrors.push(`console.${msg.type()}: ${msg.text().split('\n')[0]}`);
      });
      await page.setContent(
        '<!doctype html><html><head><meta charset="utf-8"><style>' +
          'html,body{margin:0;padding:0;background:#fff}#canvas{position:absolute;inset:0}' +
          // The palette and the bpmn.io logo cover part of the diagram in a screenshot.
          '.djs-palette,.bjs-powered-by{display:none!important}' +
          '</style></head><body><div id="canvas"></div></body></html>',
      );
      await page.addStyleTag({ path: join(BPMN_JS_DIST, 'assets/diagram-js.css') });
      await page.addStyleTag({ path: join(BPMN_JS_DIST, 'assets/bpmn-js.css') });
      await page.addScriptTag({ path: bundle });
      entry.import = await page.evaluate(importInPage, xml);
      if (!entry.import.error) {
        // Size the page to the diagram (about zoom 1, capped) so labels stay readable.
        const { width, height } = entry.import.bbox;
        await page.setViewportSize({
          width: Math.min(MAX_WIDTH, Math.max(400, Math.ceil(width + 2 * PAD))),
          height: Math.min(MAX_HEIGHT, Math.max(200, Math.ceil(height + 2 * PAD))),
        });
        entry.zoom = await page.evaluate(fitInPage);
        entry.png = join(opts.out, `${name}.png`);
        await page.screenshot({ path: entry.png });
        if (opts.saved) {
          mkdirSync(opts.saved, { recursive: true });
          entry.saved = join(opts.saved, `${name}.bpmn`);
          writeFileSync(entry.saved, await page.evaluate(saveInPage));
        }
      }
      entry.pageErrors = pageErrors;
      await page.close();

      const bad =
        entry.moddle.error || entry.moddle.warnings.length || entry.import.error || entry.import.warnings.length ||
        (entry.import.notDrawn || []).length || pageErrors.length || (opts.strict && (entry.import.findings || []).length);
      if (bad) failed = true;
      report.push(entry);
      printSummary(entry);
    }
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  if (opts.report) writeFileSync(opts.report, JSON.stringify(report, null, 2) + '\n');
  process.exit(failed ? 1 : 0);
}

function printSummary(entry) {
  const imp = entry.import;
  console.log(`== ${entry.name} (${entry.file})`);
  console.log(`  bpmn-moddle fromXML: ${entry.moddle.error ? 'ERROR ' + entry.moddle.error : 'ok'}, ${entry.moddle.warnings.length} warning(s)`);
  for (const w of entry.moddle.warnings) console.log(`    - ${w.message}`);
  console.log(`  bpmn-js importXML:   ${imp.error ? 'ERROR ' + imp.error : 'ok'}, ${imp.warnings.length} warning(s)`);
  for (const w of imp.warnings) console.log(`    - ${w.message}${w.elementId ? ` [${w.elementId}]` : ''}`);
  if (imp.error) return;
  const counts = Object.entries(imp.counts).map(([k, v]) => `${v} ${k.replace('bpmn:', '')}`).join(', ');
  console.log(`  drawn: ${counts}; not drawn: ${imp.notDrawn.length ? imp.notDrawn.map((e) => e.id).join(', ') : 'none'}`);
  console.log(`  geometry findings: ${imp.findings.length}`);
  for (const f of imp.findings) console.log(`    - ${f.kind}: ${f.ids.join(' / ')}${f.text ? ` "${f.text}"` : ''}`);
  for (const e of entry.pageErrors) console.log(`  page: ${e}`);
  console.log(`  screenshot: ${entry.png} (zoom ${entry.zoom.toFixed(2)})`);
  if (entry.saved) console.log(`  saved by bpmn-js: ${entry.saved}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
