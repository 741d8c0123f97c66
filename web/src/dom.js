// A small hyperscript helper: h('div.panel', {onclick}, child, …).

export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  let value;
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
      else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) { if (dv != null) el.dataset[dk] = String(dv); }
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k === 'value') value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// panel is a titled box; body may be given or filled later through .body.
export function panel(title, sub, ...body) {
  const b = h('div.body', null, body);
  const p = h('section.panel', null, h('header', null, h('h2', null, title), sub ? h('span.sub', null, sub) : null), b);
  p.body = b;
  return p;
}

export function tile(label, value, hint, cls) {
  return h('div.tile', { class: cls }, h('div.label', { title: label }, label), h('div.value', { title: typeof value === 'string' ? value : null }, value), hint ? h('div.hint', { title: typeof hint === 'string' ? hint : null }, hint) : null);
}

export function kv(rows) {
  return h('table.kv', null, h('tbody', null, rows.filter((r) => r && r[1] != null && r[1] !== '').map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v)))));
}
