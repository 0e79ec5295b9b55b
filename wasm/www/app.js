// The preview page: checks the policy and answers "can the runner reach this?" with the
// tailpolicy WASM module, in the page, as the user types. No network requests beyond the
// page's own files (the module and the Depot example). The review module (`diff`,
// `convertInventory`) is a second module, imported only when the changes view opens or an
// inventory file is not in the project's own format.
import init, { check, Policy, version } from './pkg/tailpolicy_wasm.js';

const $ = (id) => document.getElementById(id);
const editor = $('policy');
const inventoryEditor = $('inventory');
const fields = { src: $('src'), dst: $('dst'), proto: $('proto') };
const DEBOUNCE_MS = 150;

/** Escapes text for innerHTML. */
function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The UTF-16 offset of a 1-based line and UTF-16 column in `text`. */
function offsetOf(text, line, column) {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(offset + column - 1, text.length);
}

/** Selects a position (or a range of lines) in the editor and scrolls it into view. */
function reveal(line, column, endLine) {
  const text = editor.value;
  const start = offsetOf(text, line, column);
  const end = endLine ? offsetOf(text, endLine + 1, 1) - 1 : start;
  editor.focus();
  editor.setSelectionRange(start, Math.max(start, end));
  scrollToLine(line);
}

/** Scrolls the editor so that `line` is near the top, unless it is already in view. */
function scrollToLine(line, onlyIfHidden = false) {
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 19;
  const top = (line - 1) * lineHeight;
  const visible = top >= editor.scrollTop && top + lineHeight <= editor.scrollTop + editor.clientHeight;
  if (!(onlyIfHidden && visible)) editor.scrollTop = Math.max(0, top - 3 * lineHeight);
  syncScroll();
}

function syncScroll() {
  const { scrollTop, scrollLeft } = editor;
  $('backdrop').style.transform = `translate(${-scrollLeft}px, ${-scrollTop}px)`;
  $('gutter').style.transform = `translateY(${-scrollTop}px)`;
}

function ruleLabel(rule) {
  return `${rule.section}[${rule.index}]`;
}

function ruleButton(rule) {
  const lines = rule.end_line > rule.line ? `lines ${rule.line}–${rule.end_line}` : `line ${rule.line}`;
  return `<button class="ruleref" data-line="${rule.line}" data-column="${rule.column}" data-end-line="${rule.end_line}"
    title="${esc(lines)}">${esc(ruleLabel(rule))}</button>`;
}

/** Paints the gutter and the backdrop: rule lines, diagnostic lines, inline messages. */
function paintEditor(text, diagnostics, rules) {
  const lines = text.split('\n');
  const marks = lines.map(() => ({ rule: false, severity: null, messages: [] }));
  for (const rule of rules) {
    for (let l = rule.line; l <= rule.end_line && l <= lines.length; l++) {
      marks[l - 1].rule = true;
    }
    const first = marks[rule.line - 1];
    if (first) first.ruleLabel = ruleLabel(rule);
  }
  for (const d of diagnostics) {
    const mark = marks[Math.min(d.line, lines.length) - 1];
    if (!mark) continue;
    if (d.severity === 'error' || !mark.severity) mark.severity = d.severity;
    mark.messages.push(d);
  }
  const gutter = [];
  const backdrop = [];
  lines.forEach((line, i) => {
    const mark = marks[i];
    const severity = mark.severity === 'info' ? 'warning' : mark.severity;
    const numClass = ['num', mark.rule && !severity ? 'rule' : '', severity].filter(Boolean).join(' ');
    const title = mark.messages.map((d) => `${d.code}: ${d.message}`).join('\n');
    gutter.push(`<div class="${numClass}" data-line="${i + 1}" title="${esc(title)}">${i + 1}</div>`);
    const lnClass = ['ln', severity ? `hl-${severity}` : mark.rule ? 'hl-rule' : ''].filter(Boolean).join(' ');
    let lens = '';
    if (mark.messages.length) {
      const d = mark.messages[0];
      const more = mark.messages.length > 1 ? ` (+${mark.messages.length - 1} more)` : '';
      lens = `<span class="lens ${severity}" data-code="${esc(d.code)}">◀ ${esc(d.code)}: ${esc(d.message)}${esc(more)}</span>`;
    } else if (mark.ruleLabel) {
      lens = `<span class="lens rule">◀ ${esc(mark.ruleLabel)} allows it</span>`;
    }
    backdrop.push(`<div class="${lnClass}" data-line="${i + 1}">${esc(line) || ' '}${lens}</div>`);
  });
  $('gutter').innerHTML = gutter.join('');
  $('backdrop').innerHTML = backdrop.join('');
  syncScroll();
}

function renderDiagnostics(list, diagnostics, where) {
  list.innerHTML = diagnostics
    .map((d) => `<li class="${esc(d.severity)}" data-line="${d.line}" data-column="${d.column}" data-code="${esc(d.code)}">
        <span class="pos">${where}line ${d.line}, col ${d.column}</span>
        <span class="code">${esc(d.code)}</span>
        <span class="message">${esc(d.message)}</span>
        ${d.help ? `<span class="help">${esc(d.help)}</span>` : ''}
      </li>`)
    .join('');
}

function renderStatus(diagnostics) {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const status = $('status');
  if (errors) {
    status.dataset.state = 'invalid';
    status.textContent = `${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`;
  } else if (warnings) {
    status.dataset.state = 'warnings';
    status.textContent = `valid, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  } else {
    status.dataset.state = 'valid';
    status.textContent = 'valid policy';
  }
}

function renderVerdict(state, title, explanation, rules = [], conditions = []) {
  const verdict = $('verdict');
  verdict.dataset.state = state;
  // The rules the explanation names become buttons that scroll to them; any it does not
  // name are listed after it.
  let html = esc(explanation);
  const unnamed = rules.filter((rule) => !explanation.includes(ruleLabel(rule)));
  for (const rule of rules) html = html.replaceAll(esc(ruleLabel(rule)), ruleButton(rule));
  if (unnamed.length) html += ` · ${unnamed.map(ruleButton).join(' ')}`;
  if (rules.length) html += ' <span class="hint">(highlighted in the policy)</span>';
  // Without an inventory an answer holds only if the tailnet has these (a device with the
  // identity, an approved route ...): show them, not just the verdict.
  const list = conditions.length
    ? `<div class="conditions">On condition that:<ul>${conditions
      .map((c) => `<li data-kind="${esc(c.kind)}">${esc(c.text)}</li>`).join('')}</ul></div>`
    : '';
  verdict.innerHTML = `<div class="verdict-title">${esc(title)}</div>
    ${html ? `<div class="explanation">${html}</div>` : ''}${list}`;
}

function renderReach(src, listing, hasInventory = true) {
  $('reach-src').textContent = src || '(no tag)';
  const box = $('reach');
  if (!listing) {
    box.innerHTML = '<p class="empty">Fix the policy errors to see what the runner can reach.</p>';
    return;
  }
  if (!listing.ok) {
    box.innerHTML = `<p class="empty">${esc(listing.error)}</p>`;
    return;
  }
  if (!listing.reach.length) {
    box.innerHTML = hasInventory
      ? '<p class="empty">Nothing: no rule lets this tag reach any node of the inventory.</p>'
      : '<p class="empty">Nothing: no rule lets this tag reach anything.</p>';
    return;
  }
  // Without an inventory a line holds on conditions (a device, an approved route ...).
  const conditions = (r) => (r.conditions || [])
    .map((c) => `<br><span class="hint condition" data-kind="${esc(c.kind)}">if ${esc(c.text)}</span>`).join('');
  const rows = listing.reach.map((r) => `<tr>
      <td class="mono">${esc(r.name)}${r.addr ? `<br><span class="hint">${esc(r.addr)}</span>` : ''}${conditions(r)}</td>
      <td class="mono">${esc(r.ports.join(', '))}</td>
      <td class="mono">${esc(r.protocols.join(', '))}</td>
      <td>${r.rules.map(ruleButton).join(' ')}</td>
    </tr>`);
  box.innerHTML = `<table id="reach-table"><thead><tr><th>Destination</th><th>Ports</th><th>Protocols</th><th>Rules</th></tr></thead>
    <tbody>${rows.join('')}</tbody></table>`;
}

/** Re-checks everything; called (debounced) on every edit. With `showRule`, scrolls the
 * allowing rule into view (on load and when the question changes, not while editing). */
function update({ showRule = false } = {}) {
  const text = editor.value;
  const inventory = inventoryEditor.value.trim();
  const options = inventory ? { inventory } : {};
  const src = fields.src.value.trim();
  const dst = fields.dst.value.trim();
  const proto = fields.proto.value.trim() || 'tcp';

  const result = check(text, options);
  // An INVENTORY diagnostic points into the inventory text, not the policy.
  const inventoryDiagnostics = result.diagnostics.filter((d) => d.code === 'INVENTORY' || d.code === 'OPTIONS');
  const diagnostics = result.diagnostics.filter((d) => !inventoryDiagnostics.includes(d));
  renderDiagnostics($('diagnostics'), diagnostics, '');
  renderDiagnostics($('inventory-diagnostics'), inventoryDiagnostics, 'inventory ');
  if (inventoryDiagnostics.length) $('inventory-details').open = true;
  // The badge is the policy's: inventory problems are counted in the inventory panel.
  renderStatus(diagnostics);

  let rules = [];
  const parsed = Policy.parse(text, options);
  if (!parsed.ok && parsed.diagnostics.every((d) => d.code === 'INVENTORY' || d.code === 'OPTIONS')) {
    renderVerdict('invalid', 'No verdict: the inventory is not valid',
      'Fix the tailnet inventory (or empty it to reason about new devices).');
    renderReach(src, { ok: false, error: 'The inventory is not valid.' });
  } else if (!parsed.ok) {
    renderVerdict('invalid', 'No verdict: the policy has errors',
      'Tailscale would reject this policy; fix the errors marked in the editor.');
    renderReach(src, null);
  } else {
    const policy = parsed.policy;
    try {
      if (!src || !dst) {
        renderVerdict('error', 'Enter a runner tag and a destination host:port', '');
      } else {
        const answer = policy.query({ src, dst, proto });
        if (answer.error !== undefined) {
          renderVerdict('error', 'Cannot answer', answer.error);
        } else if (answer.allowed) {
          rules = answer.matches;
          renderVerdict('allowed', `Allowed: ${src} → ${dst} (${answer.proto})`, answer.explanation, rules, answer.conditions);
        } else {
          renderVerdict('denied', `Denied: ${src} → ${dst} (${answer.proto})`, answer.explanation);
        }
      }
      renderReach(src, src ? policy.reachableFrom(src) : { ok: false, error: 'Enter a runner tag.' }, Boolean(inventory));
    } finally {
      policy.free();
    }
  }
  paintEditor(text, diagnostics, rules);
  if (showRule && rules.length) scrollToLine(rules[0].line, true);
}

// --- The review module: loaded once, on first use ----------------------------------------
let reviewModule = null;
function loadReview() {
  reviewModule ??= import('./pkg/review/tailpolicy_wasm_review.js').then(async (review) => {
    await review.default();
    return review;
  });
  return reviewModule;
}

// --- Changes: the baseline against the editor's text --------------------------------------
let baseline = '';
const changesDetails = $('changes-details');
const changesSrc = $('changes-src');
const changesOnly = $('changes-only');

const PROTOCOLS = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp', 132: 'sctp' };
function protos(numbers) {
  if (numbers.join() === '1,6,17,58') return 'any';
  return numbers.map((n) => PROTOCOLS[n] || `proto ${n}`).join('/');
}

/** A rule of the new side (the editor) is a button; one of the baseline is its label. */
function diffRule(rule, side) {
  if (!rule) return '';
  return side === 'new'
    ? `<button class="ruleref" data-line="${rule.line}" data-column="${rule.column}" title="line ${rule.line}">${esc(rule.label)}</button>`
    : `<span class="mono" title="baseline line ${rule.line}">${esc(rule.label)}</span>`;
}

function changeRow(row, change) {
  const sign = change === 'added' ? '+' : '−';
  const rules = (list, side) => list.map((r) => diffRule(r, side)).join(' ');
  let what;
  let where = '';
  if (row.kind === 'network') {
    const via = row.via?.length ? ` via ${row.via.join(', ')}` : '';
    what = `${esc(row.src.join(', '))} → ${esc(row.dst.join(', '))} <span class="mono">${esc(protos(row.protos))}${row.ports.length ? ` ${esc(row.ports.join(','))}` : ''}</span>${esc(via)}`;
    where = change === 'added' ? rules(row.new_rules, 'new') : rules(row.old_rules, 'old');
  } else if (row.kind === 'ssh') {
    what = `SSH ${esc(row.src)} → ${esc(row.dst)} as <span class="mono">${esc(row.login)}</span>: ${esc(row.old)} → ${esc(row.new)}`;
    where = [diffRule(row.old_rule, 'old'), diffRule(row.new_rule, 'new')].filter(Boolean).join(' → ');
  } else if (row.kind === 'capability') {
    what = `${esc((row.src || []).join(', '))} → ${esc((row.dst || []).join(', '))} capability <span class="mono">${esc(row.capability)}</span>`;
    where = change === 'added' ? rules(row.new_rules || [], 'new') : rules(row.old_rules || [], 'old');
  } else {
    what = `${esc(row.section)} <span class="mono">${esc(row.target)}</span>: ${esc(row.who.join(', '))}`;
    const at = change === 'added' ? row.new_at : row.old_at;
    if (at && change === 'added') where = diffRule({ ...at, label: `line ${at.line}` }, 'new');
  }
  return `<tr class="${change}" data-kind="${esc(row.kind)}"><td>${sign}</td>
    <td>${what}<br><span class="kind">${esc(row.kind)}</span></td><td>${where}</td></tr>`;
}

function renderChanges(result) {
  const box = $('changes');
  if (!result.ok) {
    box.dataset.state = 'failed';
    box.innerHTML = result.failures.map((f) => {
      const which = f.side === 'old' ? 'The baseline' : f.side === 'new' ? 'The edited policy'
        : f.side === 'inventory' ? 'The inventory' : 'The options';
      const first = f.diagnostics[0];
      return `<p class="failure" data-side="${esc(f.side)}">${which} is not valid${first
        ? `: line ${first.line}: ${esc(first.message)}` : ''}</p>`;
    }).join('');
    return;
  }
  const { diff, focus } = result;
  const only = changesOnly.checked && focus;
  const pick = (rows, indexes, change) => rows
    .map((row, i) => ({ row, i }))
    .filter(({ i }) => !only || indexes.includes(i))
    .map(({ row }) => changeRow(row, change));
  const rows = [...pick(diff.added, focus?.added ?? [], 'added'), ...pick(diff.removed, focus?.removed ?? [], 'removed')];
  const total = diff.added.length + diff.removed.length;
  box.dataset.state = diff.unchanged ? 'unchanged' : 'changed';
  let summary = diff.unchanged
    ? 'No change in access.'
    : `${diff.added.length} added, ${diff.removed.length} removed${only ? `; ${rows.length} for ${focus.selector}` : ''}.`;
  if (focus && !diff.unchanged) {
    summary += focus.widens ? ` The change widens access for ${focus.selector}.` : ` No new access for ${focus.selector}.`;
  }
  if (diff.symbolic) summary += ' (No inventory: compared over hypothetical devices.)';
  box.innerHTML = `<p class="summary" data-widens="${Boolean(focus?.widens)}">${esc(summary)}</p>${rows.length
    ? `<table id="changes-table"><tbody>${rows.join('')}</tbody></table>`
    : total ? '<p class="empty">No row concerns this source.</p>' : ''}`;
}

/** Recomputes the changes view when it is open (loading the review module the first time). */
async function updateChanges() {
  if (!changesDetails.open) return;
  const box = $('changes');
  if (!reviewModule) {
    box.dataset.state = 'loading';
    box.textContent = 'Loading the review module…';
  }
  let review;
  try {
    review = await loadReview();
  } catch (error) {
    box.dataset.state = 'failed';
    box.innerHTML = `<p class="failure">The review module failed to load: ${esc(error)}</p>`;
    return;
  }
  const inventory = inventoryEditor.value.trim();
  const focus = changesSrc.value.trim();
  const result = review.diff(baseline, editor.value, {
    inventory: inventory || null,
    focus: focus || null,
    oldName: 'baseline',
    newName: 'editor',
  });
  renderChanges(result);
}

// --- Inventory files: the project's own JSON as is, any other shape converted -------------
function inventoryNote(text, state = 'ok') {
  const note = $('inventory-note');
  note.dataset.state = state;
  note.textContent = text;
}

/** Is `text` an inventory the main module reads as it is (the project's own format)? */
function isOwnInventory(text) {
  return !check('{}', { inventory: text }).diagnostics.some((d) => d.code === 'INVENTORY');
}

async function loadInventoryFiles(files) {
  if (!files.length) return;
  const names = files.map((f) => f.name);
  const texts = await Promise.all(files.map((f) => f.text()));
  $('inventory-details').open = true;
  if (texts.length === 1 && isOwnInventory(texts[0])) {
    inventoryEditor.value = texts[0];
    inventoryNote(`Loaded ${names[0]}.`);
  } else {
    inventoryNote(`Reading ${names.join(', ')}…`);
    let review;
    try {
      review = await loadReview();
    } catch (error) {
      inventoryNote(`The review module failed to load: ${error}`, 'error');
      return;
    }
    const result = review.convertInventory(texts, names);
    if (!result.ok) {
      const d = result.diagnostics[0];
      inventoryNote(`${result.file}: not an inventory tailpolicy reads: ${d ? `line ${d.line}: ${d.message}` : ''}${d?.help ? ` (${d.help})` : ''}`, 'error');
      return;
    }
    inventoryEditor.value = `${JSON.stringify(result.inventory, null, 2)}\n`;
    const warnings = result.warnings.length ? ` ${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}: ${result.warnings.map((w) => `${w.file}: ${w.message}`).join('; ')}` : '';
    inventoryNote(`Converted ${result.files.map((f) => `${f.name} (${f.shape})`).join(', ')}.${warnings}`);
  }
  schedule();
}

let timer = 0;
function schedule(options) {
  clearTimeout(timer);
  timer = setTimeout(() => {
    update(options);
    updateChanges();
  }, DEBOUNCE_MS);
}

async function main() {
  await init();
  $('version').textContent = `tailpolicy ${version()}`;
  const [policy, inventory] = await Promise.all([
    fetch('depot/policy.hujson').then((r) => r.text()),
    fetch('depot/inventory.json').then((r) => r.text()),
  ]);
  editor.value = policy;
  baseline = policy;
  inventoryEditor.value = inventory;
  editor.disabled = false;
  inventoryEditor.disabled = false;
  editor.addEventListener('input', () => schedule());
  editor.addEventListener('scroll', syncScroll);
  inventoryEditor.addEventListener('input', () => schedule());
  for (const field of Object.values(fields)) field.addEventListener('input', () => schedule({ showRule: true }));
  changesDetails.addEventListener('toggle', () => updateChanges());
  changesSrc.addEventListener('input', () => schedule());
  changesOnly.addEventListener('change', () => updateChanges());
  $('baseline-set').addEventListener('click', () => {
    baseline = editor.value;
    updateChanges();
  });
  $('inventory-files').addEventListener('change', (event) => loadInventoryFiles([...event.target.files]));
  inventoryEditor.addEventListener('dragover', (event) => event.preventDefault());
  inventoryEditor.addEventListener('drop', (event) => {
    event.preventDefault();
    loadInventoryFiles([...event.dataTransfer.files]);
  });
  document.body.addEventListener('click', (event) => {
    const target = event.target.closest('.ruleref, .diagnostics li');
    if (!target || target.closest('#inventory-diagnostics')) return;
    reveal(Number(target.dataset.line), Number(target.dataset.column), Number(target.dataset.endLine) || 0);
  });
  update({ showRule: true });
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  renderVerdict('error', 'The preview failed to start', String(error));
});
