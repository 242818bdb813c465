#!/usr/bin/env node
// Open BPMN files in the real bpmn-js (the Viewer bundle, as bpmn.io / Camunda Modeler draw
// them) in headless Chromium, measure every text bpmn-js drew and take a screenshot cropped to
// the diagram. No npm dependency of its own: it loads bpmn-js from the folder given with
// --bpmn-js (or $BPMN_JS) and talks to Chromium over --remote-debugging-pipe.
//
// Usage: node check.mjs --bpmn-js DIR/node_modules/bpmn-js [options] FILE.bpmn|FILE.yaml...
//   --png DIR        write DIR/<name>.png (zoom 1, cropped to the diagram)
//   --json FILE      write the whole report (every text's lines, widths and boxes)
//   --calibrate      add the per-character widths Chromium measures (1/1000 em) to the report
//                    and compare them with engine/builder/text_metrics.py's table
//   --wrap-cases FILE  JSON list of {text, width, size}: wrap each with bpmn-js's text renderer
//                    and with engine/builder/text_metrics.py's wrap(), print the differences
//   --caseloom PATH  compiler for .yaml arguments (default .venv/bin/caseloom)
//   --chromium PATH  default $CHROMIUM or /usr/bin/chromium
//   --scale N        device pixel ratio of the screenshots (default 1)
// Exit status: 0 no finding, 1 a finding or an import warning/error, 2 usage.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');

function usage(message) {
  console.error(`check.mjs: ${message}\nusage: node check.mjs --bpmn-js DIR [--png DIR] [--json FILE] [--calibrate] FILE...`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    bpmnJs: process.env.BPMN_JS || null,
    png: null,
    json: null,
    calibrate: false,
    wrapCases: null,
    caseloom: join(REPO, '.venv/bin/caseloom'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
    scale: 1,
    files: [],
  };
  const valued = { '--bpmn-js': 'bpmnJs', '--png': 'png', '--json': 'json', '--caseloom': 'caseloom', '--chromium': 'chromium', '--scale': 'scale', '--wrap-cases': 'wrapCases' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg in valued) {
      if (argv[i + 1] === undefined) usage(`${arg} needs a value`);
      opts[valued[arg]] = argv[++i];
    } else if (arg === '--calibrate') {
      opts.calibrate = true;
    } else if (arg.startsWith('--')) {
      usage(`unknown option ${arg}`);
    } else {
      opts.files.push(resolve(arg));
    }
  }
  if (!opts.bpmnJs) usage('give --bpmn-js (the bpmn-js package folder, e.g. /tmp/bpmnjs/node_modules/bpmn-js)');
  if (existsSync(join(opts.bpmnJs, 'node_modules/bpmn-js'))) opts.bpmnJs = join(opts.bpmnJs, 'node_modules/bpmn-js');
  if (!existsSync(join(opts.bpmnJs, 'dist/bpmn-viewer.development.js'))) usage(`no bpmn-js dist under ${opts.bpmnJs}`);
  if (!opts.files.length && !opts.wrapCases) usage('no file given');
  opts.scale = Number(opts.scale) || 1;
  return opts;
}

// ---- Chrome DevTools Protocol over a pipe ------------------------------------------------------

class Browser {
  constructor(executable) {
    this.profile = mkdtempSync(join(tmpdir(), 'bpmn-js-check-'));
    this.proc = spawn(executable, [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(process.env.BPMN_JS_CHECK_HINTING ? [`--font-render-hinting=${process.env.BPMN_JS_CHECK_HINTING}`] : []),
      `--user-data-dir=${this.profile}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.next = 1;
    this.pending = new Map();
    let buffer = '';
    this.proc.stdio[4].on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let end;
      while ((end = buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        const waiter = message.id && this.pending.get(message.id);
        if (waiter) {
          this.pending.delete(message.id);
          if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
          else waiter.resolve(message.result);
        }
      }
    });
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.next++;
    this.proc.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }

  async page(width, height, scale) {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const call = (method, params) => this.send(method, params, sessionId);
    await call('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: scale, mobile: false });
    return { call, close: () => this.send('Target.closeTarget', { targetId }) };
  }

  async close() {
    const exited = new Promise((r) => (this.proc.exitCode !== null ? r() : this.proc.once('exit', r)));
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    } finally {
      if (this.proc.exitCode === null) this.proc.kill();
      await exited;
      rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  }
}

async function evaluate(page, expression) {
  const { result, exceptionDetails } = await page.call('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
  if (exceptionDetails) throw new Error(exceptionDetails.exception?.description || exceptionDetails.text);
  return result.value;
}

// ---- files -------------------------------------------------------------------------------------

function bpmnOf(file, opts, scratch) {
  if (/\.ya?ml$/.test(file)) {
    const out = join(scratch, `${basename(file, extname(file))}.bpmn`);
    execFileSync(opts.caseloom, ['compile', file, '-o', out], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
    return out;
  }
  return file;
}

/** Characters compared by --calibrate: printable ASCII, Latin-1 Supplement, Latin
 * Extended-A, the general punctuation and symbols Arial has (others come from a fallback font). */
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i)).join('');
const CALIBRATION_CHARS = range(0x20, 0x7e) + range(0xa0, 0x17f) + range(0x2010, 0x2011) + range(0x2013, 0x2015) +
  range(0x2017, 0x201e) + range(0x2020, 0x2022) + '\u2026\u2030\u2032\u2033\u2039\u203a' +
  '\u20ac\u2122\u2190\u2191\u2192\u2193\u2194\u2212\u2260\u2264\u2265\u221e\u2248\u00d7\u00f7\u2022';

/** Widths and kerning pairs of engine/builder/text_metrics.py's table, in 1/1000 em, for
 * --calibrate. */
function tableWidths() {
  const code = 'import json,sys;from engine.builder import text_metrics as t;k=1000/t.UNITS_PER_EM;' +
    'print(json.dumps({"chars": {c: t._char_units(c)*k for c in sys.argv[1]},' +
    '"kerning": {p: v*k for p, v in t._KERNING.items()}}))';
  try {
    return JSON.parse(execFileSync(join(REPO, '.venv/bin/python'), ['-c', code, CALIBRATION_CHARS], { cwd: REPO }).toString());
  } catch {
    return null;
  }
}

/** Lines of engine/builder/text_metrics.py's wrap() for each case. */
function pythonWraps(cases) {
  const code = 'import json,sys;from engine.builder.text_metrics import wrap,TASK_FONT,EXTERNAL_FONT;' +
    'cases=json.load(sys.stdin);' +
    'print(json.dumps([wrap(c["text"],c["width"],EXTERNAL_FONT if c["size"]==11 else TASK_FONT) for c in cases]))';
  return JSON.parse(execFileSync(join(REPO, '.venv/bin/python'), ['-c', code], { cwd: REPO, input: JSON.stringify(cases), maxBuffer: 1 << 28 }).toString());
}

async function compareWraps(browser, file, prelude) {
  const cases = JSON.parse(readFileSync(file, 'utf8'));
  const tab = await browser.page(800, 600, 1);
  await prelude(tab);
  const drawn = await evaluate(tab, `bpmnJsWrap(${JSON.stringify(cases)})`);
  await tab.close();
  const python = pythonWraps(cases);
  const norm = (lines) => lines.map((l) => l.replace(/\s+/g, ' ').trim());
  const differ = [];
  cases.forEach((c, i) => {
    if (JSON.stringify(norm(drawn[i])) !== JSON.stringify(norm(python[i]))) differ.push({ ...c, bpmnJs: drawn[i], python: python[i] });
  });
  const moreLines = differ.filter((d) => norm(d.bpmnJs).length > norm(d.python).length).length;
  console.log(`== wrap cases: ${cases.length}, ${differ.length} wrapped differently (${moreLines} with more lines in bpmn-js)`);
  for (const d of differ.slice(0, 30)) console.log(`    ${d.size}px @${d.width}: ${JSON.stringify(d.text)}\n      bpmn-js ${JSON.stringify(d.bpmnJs)}\n      python  ${JSON.stringify(d.python)}`);
  return { cases: cases.length, differ, bpmnJs: drawn };
}

function describe(f) {
  const rest = Object.entries(f).filter(([k]) => k !== 'kind' && k !== 'ids').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  return `${f.kind}: ${f.ids.join(' / ')} ${rest}`;
}

function summary(name, r) {
  console.log(`== ${name}`);
  if (r.error) { console.log(`  import ERROR ${r.error}`); return; }
  console.log(`  import: ${r.warnings.length} warning(s)${r.warnings.map((w) => `\n    - ${w}`).join('')}`);
  console.log(`  drawn: ${Object.entries(r.counts).map(([k, v]) => `${v} ${k.replace('bpmn:', '')}`).join(', ')}; view ${r.view.width}x${r.view.height} at zoom ${r.zoom}`);
  for (const t of r.tasks) {
    const widest = Math.max(...t.widths);
    console.log(`  task ${t.id} ${t.bounds.width}x${t.bounds.height}: ${t.lines.length} line(s), widest ${widest} of ${t.bounds.width - 14}, text ${t.bbox.width}x${t.bbox.height} ${JSON.stringify(t.lines)}`);
  }
  for (const l of r.labels) {
    const near = l.nearestOther ? `, own flow ${l.ownDistance} px, nearest other ${l.nearestOther.id} ${l.nearestOther.distance} px` : '';
    console.log(`  label ${l.id} box ${l.bounds.width}x${l.bounds.height}: ${l.lines.length} line(s), widths ${JSON.stringify(l.widths)}, text ${l.bbox.width}x${l.bbox.height}${near} ${JSON.stringify(l.lines)}`);
  }
  console.log(`  findings: ${r.findings.length}`);
  for (const f of r.findings) console.log(`    - ${describe(f)}`);
  if (r.png) console.log(`  screenshot: ${r.png}`);
}

function calibration(report) {
  const table = tableWidths();
  if (!table) {
    console.log('== calibration: engine/builder/text_metrics.py could not be read (.venv/bin/python)');
    return;
  }
  const measured = report.charWidths['1000'];
  const rows = [];
  for (const [ch, w] of Object.entries(measured)) {
    const expected = table.chars[ch];
    if (Math.abs(w - expected) > 0.5) rows.push(`${JSON.stringify(ch)} U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}: chromium ${w.toFixed(1)}, table ${expected.toFixed(1)}`);
  }
  const pairs = new Set([...Object.keys(report.charWidths.kerning), ...Object.keys(table.kerning)]);
  for (const pair of pairs) {
    const w = report.charWidths.kerning[pair] || 0;
    const expected = table.kerning[pair] || 0;
    if (Math.abs(w - expected) > 0.5) rows.push(`kerning ${JSON.stringify(pair)}: chromium ${w.toFixed(1)}, table ${expected.toFixed(1)}`);
  }
  console.log(`== calibration (1/1000 em; Arial as Chromium resolves it): ${Object.keys(measured).length} characters and ${pairs.size} kerning pairs, ${rows.length} differ from the table${rows.map((r) => `\n    ${r}`).join('')}`);
  for (const size of ['12', '11']) {
    const off = Object.entries(report.charWidths[size]).filter(([ch, w]) => Math.abs(w - measured[ch]) > 0.5);
    console.log(`   at ${size} px: ${off.length} character(s) measured differently from 1000 px (hinting)${off.slice(0, 20).map(([ch, w]) => ` ${JSON.stringify(ch)}=${w.toFixed(0)}`).join('')}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const bundle = readFileSync(join(opts.bpmnJs, 'dist/bpmn-viewer.development.js'), 'utf8');
  const css = ['diagram-js.css', 'bpmn-js.css'].map((f) => readFileSync(join(opts.bpmnJs, 'dist/assets', f), 'utf8')).join('\n');
  const measure = readFileSync(join(HERE, 'measure.js'), 'utf8');
  const page = readFileSync(join(HERE, 'page.html'), 'utf8');
  const scratch = mkdtempSync(join(tmpdir(), 'bpmn-js-check-files-'));
  const browser = new Browser(opts.chromium);
  const reports = {};
  let failed = false;
  const prelude = async (tab) => {
    const { frameTree } = await tab.call('Page.getFrameTree');
    await tab.call('Page.setDocumentContent', { frameId: frameTree.frame.id, html: page });
    await evaluate(tab, `(() => { const s = document.createElement('style'); s.textContent = ${JSON.stringify(css)}; document.head.append(s); })()`);
    await evaluate(tab, bundle + '\n;0');
    await evaluate(tab, measure + '\n;0');
  };
  try {
    if (opts.wrapCases) {
      reports.wraps = await compareWraps(browser, opts.wrapCases, prelude);
      if (reports.wraps.differ.length) failed = true;
    }
    for (const file of opts.files) {
      const name = basename(file, extname(file));
      const xml = readFileSync(bpmnOf(file, opts, scratch), 'utf8');
      const tab = await browser.page(2400, 1200, opts.scale);
      await prelude(tab);
      const report = await evaluate(tab, `bpmnJsCheck(${JSON.stringify(xml)}, ${JSON.stringify({ calibrate: opts.calibrate, chars: CALIBRATION_CHARS })})`);
      if (!report.error && opts.png) {
        mkdirSync(opts.png, { recursive: true });
        const { view } = report;
        await tab.call('Emulation.setDeviceMetricsOverride', { width: view.width, height: view.height, deviceScaleFactor: opts.scale, mobile: false });
        await evaluate(tab, 'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
        const { data } = await tab.call('Page.captureScreenshot', {
          format: 'png',
          clip: { x: 0, y: 0, width: view.width, height: view.height, scale: 1 },
        });
        report.png = join(resolve(opts.png), `${name}.png`);
        writeFileSync(report.png, Buffer.from(data, 'base64'));
      }
      await tab.close();
      reports[name] = { file, ...report };
      summary(name, report);
      if (report.error || report.warnings.length || report.findings.length) failed = true;
      if (opts.calibrate && report.charWidths) {
        calibration(report);
        opts.calibrate = false; // once is enough
      }
    }
  } finally {
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify(reports, null, 2) + '\n');
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
