// A field app for the tests: fills the tracker's published XForms with ODK's own form
// engine (@getodk/xforms-engine) and sends them the way ODK Collect does.
//
// Reads one JSON job on standard input, prints one JSON answer on standard output:
//   {"server", "form_id", "answers": {path: value}, "repeats": {name: [{field: value}]},
//    "photos": [{"stage", "path"}], "edit": {"xml", "files": {name: path}} | null,
//    "send": true, "lose_first_answer": false}
// → {"instance_id", "xml", "files": {name: path}, "posts": [{"status", "message", "files"}],
//    "accept_length", "media": {name: text}}
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('');
for (const name of ['DOMParser', 'XMLSerializer', 'Node', 'Element', 'Document', 'XPathResult', 'document']) {
  globalThis[name] ??= dom.window[name];
}
// The engine's bundled XPath parser (tree-sitter, compiled with emscripten) looks for
// CommonJS globals when it sees Node; its WebAssembly comes inlined, so these stay unused.
globalThis.__dirname ??= process.cwd();
globalThis.module ??= { exports: {} };
const { loadForm } = await import('@getodk/xforms-engine');

const OPENROSA = { 'X-OpenRosa-Version': '1.0' };
const job = JSON.parse(readFileSync(0, 'utf8'));

async function get(url) {
  const response = await fetch(url, { headers: OPENROSA });
  if (response.headers.get('X-OpenRosa-Version') !== '1.0') throw new Error(`no X-OpenRosa-Version on ${url}`);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.text();
}

function tags(xml, name) {
  return [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1].replaceAll('&amp;', '&'));
}

// Form discovery as Collect does it: formList, the form, its manifest and each media file.
const formList = await get(`${job.server}/formList`);
const ids = tags(formList, 'formID');
const index = ids.indexOf(job.form_id);
if (index < 0) throw new Error(`form ${job.form_id} not listed: ${ids}`);
const xform = await get(tags(formList, 'downloadUrl')[index]);
const manifestUrl = tags(formList, 'manifestUrl')[index];
const media = {};
if (manifestUrl) {
  const manifest = await get(manifestUrl);
  const names = tags(manifest, 'filename');
  const urls = tags(manifest, 'downloadUrl');
  for (let i = 0; i < names.length; i++) media[names[i]] = await get(urls[i]);
}

const fetchFormAttachment = async (url) => {
  const name = basename(url.pathname ?? String(url));
  if (!(name in media)) return new Response('', { status: 404 });
  return new Response(media[name], { status: 200, headers: { 'Content-Type': 'text/csv' } });
};

const form = await loadForm(xform, { fetchFormAttachment, missingResourceBehavior: 'ERROR' });
if (form.status === 'failure') throw form.error;

let instance;
if (job.edit) {
  const attachments = new Map(Object.entries(job.edit.files ?? {}).map(([name, path]) => [name, async () =>
    new Response(readFileSync(path), { status: 200, headers: { 'Content-Type': 'image/jpeg' } })]));
  instance = await form.editInstance({
    inputType: 'FORM_INSTANCE_INPUT_RESOLVABLE',
    resolveInstance: () => job.edit.xml,
    attachments,
  });
} else {
  instance = form.createInstance();
}
const root = instance.root;

const plain = (reference) => reference.replace(/\[\d+\]/g, '');
function* walk(node) {
  yield node;
  for (const child of node.currentState.children ?? []) yield* walk(child);
}
function find(reference) {
  for (const node of walk(root)) if (node.currentState.reference === reference) return node;
  throw new Error(`no node ${reference}`);
}
function setAnswer(node, value) {
  if (node.nodeType === 'select') node.selectValue(String(value));
  else if (node.nodeType === 'upload') node.setValue(value);
  else node.setValue(value);
}
const formRoot = `/${job.form_id}`;
const fileOf = (path) => new File([readFileSync(path)], basename(path), { type: 'image/jpeg' });

for (const [name, value] of Object.entries(job.answers ?? {})) setAnswer(find(`${formRoot}/${name}`), value);
for (const [name, items] of Object.entries(job.repeats ?? {})) {
  const range = find(`${formRoot}/${name}`);
  // A new form opens with one empty repeat instance, as in Collect: fill from there.
  if (!job.edit && range.currentState.children.length) range.removeInstances(0, range.currentState.children.length);
  const start = range.currentState.children.length;
  if (items.length) range.addInstances(undefined, items.length);
  const rows = range.currentState.children.slice(start);
  items.forEach((item, i) => {
    for (const [field, value] of Object.entries(item)) {
      const ref = `${rows[i].currentState.reference}/${field}`;
      setAnswer(find(ref), field === 'file' ? fileOf(value) : value);
    }
  });
}

// Collect asks the server how much one POST may carry, then splits by that size.
const head = await fetch(`${job.server}/submission`, { method: 'HEAD', headers: OPENROSA });
if (head.status !== 204) throw new Error(`HEAD submission: ${head.status}`);
const accept = Number(head.headers.get('X-OpenRosa-Accept-Content-Length'));
const payload = await root.prepareInstancePayload({ payloadType: 'chunked', maxSize: job.max_size ?? accept });
if (payload.status !== 'ready') {
  console.log(JSON.stringify({ status: payload.status, violations: payload.violations?.map((v) => v.reference ?? v.fileName) }));
  process.exit(3);
}

const saved = mkdtempSync(join(tmpdir(), 'collect-'));
const xmlFile = payload.data[0].get('xml_submission_file');
const xml = await xmlFile.text();
const files = {};
for (const chunk of payload.data) {
  for (const [name, value] of chunk.entries()) {
    if (name === 'xml_submission_file') continue;
    const path = join(saved, value.name);
    writeFileSync(path, Buffer.from(await value.arrayBuffer()));
    files[value.name] = path;
  }
}

async function send() {
  const posts = [];
  for (let i = 0; i < payload.data.length; i++) {
    const body = new FormData();
    const names = [];
    for (const [name, value] of payload.data[i].entries()) {
      body.append(name, value, value.name);
      if (name !== 'xml_submission_file') names.push(value.name);
    }
    if (i < payload.data.length - 1) body.append('*isIncomplete*', 'yes');
    const response = await fetch(`${job.server}/submission`, { method: 'POST', body, headers: OPENROSA });
    const text = await response.text();
    const message = (text.match(/<message[^>]*>([^<]*)<\/message>/) ?? [])[1] ?? text;
    posts.push({ status: response.status, message, files: names, version: response.headers.get('X-OpenRosa-Version') });
    if (response.status !== 201) break;
  }
  return posts;
}

const posts = [];
if (job.send !== false) {
  posts.push(...(await send()));
  // A lost answer: Collect never saw the 201 and sends the whole submission again.
  if (job.lose_first_answer) posts.push(...(await send()));
}
const instanceId = (xml.match(/<instanceID>([^<]*)<\/instanceID>/) ?? [])[1];
console.log(JSON.stringify({ instance_id: instanceId, xml, files, posts, accept_length: accept, media,
  chunks: payload.data.length }));
