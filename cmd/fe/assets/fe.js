// fe.js: the Codis web UI (SPEC-control §7.4), plain JavaScript, no build
// step and no libraries.
//
// The page talks only to codis-fe: GET /list for the product names, and
// every dashboard call with ?forward={product}, which codis-fe
// reverse-proxies to that product's dashboard. Reads: GET /topom once per
// product selection, then GET /api/topom/stats/{xauth} every N seconds.
// Writes: PUT /api/topom/.../{xauth}/... (routes of SPEC-control §4.3),
// followed by a stats refresh. The dashboard xauth is the first 32 hex
// chars of SHA-256("Codis-XAuth-[{product}]").
'use strict';

(function () {
  const MAX_SLOTS = 1024;
  const CHART_SAMPLES = 10; // OP/s samples kept for the overview chart

  // ---------------------------------------------------------------- state

  const state = {
    product: '',       // selected product name
    xauth: '',         // its dashboard xauth
    gen: 0,            // bumped on every selection; stale replies are dropped
    seq: 0,            // numbers every refresh; a reply older than the one
    shown: 0,          //   shown (refreshes can overlap) is dropped
    overview: null,    // GET /topom (config, model, version)
    stats: null,       // latest stats
    qps: [],           // [{t, v}] total OP/s samples
    interval: 3,       // refresh period, seconds
    timer: 0,
    showActions: false,
  };

  // ---------------------------------------------------------------- DOM helpers

  const $ = (sel, root) => (root || document).querySelector(sel);

  function build(el, attrs, children) {
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') el.setAttribute('class', v);
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'text') el.textContent = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  // h builds an HTML element: h('td', {class: 'x'}, 'text', child...).
  function h(tag, attrs, ...children) {
    return build(document.createElement(tag), attrs, children);
  }

  // s builds an SVG element.
  function s(tag, attrs, ...children) {
    return build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
  }

  // update makes nodes the children of el, unless el already shows the
  // same HTML. The panels are rebuilt on every refresh: swapping in equal
  // rows anyway would take away the button under the pointer, and a click
  // whose press and release straddle a refresh would be lost. (The
  // handlers of the kept nodes only use values that are in the HTML.)
  function update(el, ...nodes) {
    const next = document.createElement('div');
    next.append(...nodes);
    if (next.innerHTML !== el.innerHTML) el.replaceChildren(...next.childNodes);
  }

  // ---------------------------------------------------------------- formatting

  function humanSize(n) {
    n = Number(n) || 0;
    const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? String(n) : n.toFixed(2)) + ' ' + units[i];
  }

  function humanCount(n) {
    return (Number(n) || 0).toLocaleString('en-US');
  }

  // dbKeys returns [[db, keys]] from INFO fields db<N>: "keys=10,expires=0,...".
  function dbKeys(info) {
    const out = [];
    for (const [k, v] of Object.entries(info || {})) {
      const m = /^db(\d+)$/.exec(k);
      if (!m) continue;
      const km = /(?:^|,)keys=(\d+)/.exec(v);
      if (km) out.push([Number(m[1]), Number(km[1])]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }

  // ranges turns a sorted list of slot ids into [[beg, end]] runs.
  function ranges(ids) {
    const out = [];
    for (const id of ids) {
      const last = out[out.length - 1];
      if (last && last[1] + 1 === id) last[1] = id;
      else out.push([id, id]);
    }
    return out;
  }

  function groupColor(gid) {
    return 'hsl(' + ((gid * 137.508) % 360).toFixed(1) + ', 62%, 48%)';
  }

  // ---------------------------------------------------------------- xauth

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function sha256Hex(text) {
    const bytes = new TextEncoder().encode(text);
    if (window.isSecureContext && window.crypto && crypto.subtle) {
      try {
        return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
      } catch (e) {
        // fall through to the JavaScript implementation
      }
    }
    return window.CodisSHA256.hex(bytes);
  }

  async function xauthOf(product) {
    return (await sha256Hex('Codis-XAuth-[' + product + ']')).slice(0, 32);
  }

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  // request sends one call to the selected product's dashboard through
  // codis-fe. 200 → decoded JSON; 800/1500 → ApiError with the remote
  // Cause; anything else → ApiError with the raw body.
  async function request(method, path, body) {
    const url = path + (path.includes('?') ? '&' : '?') + 'forward=' + encodeURIComponent(state.product);
    const init = { method: method, cache: 'no-store', headers: {} };
    if (body !== undefined) {
      init.body = JSON.stringify(body, null, 4);
      init.headers['Content-Type'] = 'application/json';
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, 'request failed: ' + e.message, '');
    }
    const text = await resp.text();
    if (resp.status === 200) {
      if (!text) return null;
      try {
        return JSON.parse(text);
      } catch (e) {
        return text;
      }
    }
    if (resp.status === 800 || resp.status === 1500) {
      let cause = text;
      try {
        const v = JSON.parse(text);
        if (v && typeof v.Cause === 'string') cause = v.Cause;
      } catch (e) {
        // not JSON: show it raw
      }
      throw new ApiError(resp.status, cause, text);
    }
    const what = resp.status === 403 ? ' (codis-fe does not know this product; reload the product list)' : '';
    throw new ApiError(resp.status, '[' + resp.status + '] ' + resp.statusText + ' - ' + path + what, text);
  }

  // topom builds /api/topom/{segs...} with each segment escaped.
  function topom(...segs) {
    return '/api/topom/' + segs.map((x) => encodeURIComponent(String(x))).join('/');
  }

  // ---------------------------------------------------------------- dialogs

  // openDialog shows a modal and resolves with the role of the button
  // pressed ('ok' or 'cancel'); Escape is 'cancel'.
  function openDialog(opts) {
    return new Promise((resolve) => {
      const dlg = h('dialog', { class: 'dlg ' + (opts.kind || '') });
      const done = (role) => {
        dlg.close();
        dlg.remove();
        resolve(role);
      };
      const buttons = (opts.buttons || [['ok', 'OK']]).map(([role, label]) =>
        h('button', { type: 'button', 'data-role': role, class: role === 'ok' && opts.kind === 'danger' ? 'danger' : '', onclick: () => done(role) }, label));
      build(dlg, null, [
        h('h3', null, opts.title),
        opts.message ? h('p', { class: 'dlg-message' }, opts.message) : null,
        opts.detail ? h('pre', { class: 'dlg-detail' }, opts.detail) : null,
        h('div', { class: 'dlg-buttons' }, buttons)]);
      dlg.addEventListener('cancel', (e) => {
        e.preventDefault();
        done('cancel');
      });
      document.body.append(dlg);
      dlg.showModal();
      dlg.querySelector('button[data-role="' + (opts.focus || 'ok') + '"]')?.focus();
    });
  }

  async function ask(title, message, opts) {
    opts = opts || {};
    const role = await openDialog({
      title: title, message: message, detail: opts.detail, kind: opts.danger ? 'danger' : 'confirm',
      buttons: [['cancel', 'Cancel'], ['ok', opts.okLabel || 'OK']], focus: 'cancel',
    });
    return role === 'ok';
  }

  function showError(title, err) {
    let message = String(err && err.message || err);
    let detail = '';
    if (err instanceof ApiError) {
      if (err.status === 800 || err.status === 1500) {
        try {
          detail = JSON.stringify(JSON.parse(err.body), null, 4);
        } catch (e) {
          detail = err.body;
        }
      } else if (err.body) {
        detail = err.body;
      }
    }
    return openDialog({ title: title + ' failed', message: message, detail: detail, kind: 'error' });
  }

  // act runs one dashboard write: an optional confirmation, the PUT, then
  // a stats refresh. It resolves with the reply, or undefined when
  // cancelled or failed (the error is shown).
  async function act(title, path, opts) {
    opts = opts || {};
    if (opts.confirm && !(await ask(title, opts.confirm, { danger: opts.danger, detail: opts.detail }))) {
      return undefined;
    }
    try {
      const reply = await request('PUT', path, opts.body);
      refresh();
      return reply === null ? 'OK' : reply;
    } catch (e) {
      await showError(title, e);
      refresh();
      return undefined;
    }
  }

  // ---------------------------------------------------------------- products

  async function loadProducts() {
    let names = [];
    try {
      const resp = await fetch('/list', { cache: 'no-store' });
      if (resp.ok) names = await resp.json();
    } catch (e) {
      names = [];
    }
    const ul = $('#products');
    ul.replaceChildren(...(names || []).map((name) =>
      h('li', null, h('a', { href: '#' + encodeURIComponent(name), 'data-product': name }, name))));
    $('#products-empty').hidden = (names || []).length > 0;
    markSelected();
    return names || [];
  }

  function markSelected() {
    for (const a of document.querySelectorAll('#products a')) {
      a.classList.toggle('active', a.dataset.product === state.product);
    }
  }

  function productFromHash() {
    const raw = location.hash.replace(/^#/, '');
    try {
      return decodeURIComponent(raw);
    } catch (e) {
      return raw;
    }
  }

  async function selectProduct(name) {
    clearTimeout(state.timer);
    state.gen++;
    state.product = name;
    state.overview = null;
    state.stats = null;
    state.qps = [];
    markSelected();
    $('#title-product').textContent = name ? '/ ' + name : '';
    document.title = name ? 'Codis FE - ' + name : 'Codis FE';
    $('#welcome').hidden = !!name;
    $('#product').hidden = !name;
    if (!name) return;
    const gen = state.gen;
    const xauth = await xauthOf(name);
    if (gen !== state.gen) return;
    state.xauth = xauth;
    clearPanels();
    await refresh();
  }

  // ---------------------------------------------------------------- refresh

  // refresh loads the overview (first time) or the stats, renders, and
  // schedules the next refresh.
  async function refresh() {
    clearTimeout(state.timer);
    const gen = state.gen;
    const seq = ++state.seq;
    if (!state.product) return;
    try {
      if (!state.overview) {
        const ov = await request('GET', '/topom');
        if (gen !== state.gen || seq < state.shown) return;
        state.shown = seq;
        state.overview = ov || {};
        applyStats(state.overview.stats);
      } else {
        const st = await request('GET', topom('stats', state.xauth));
        if (gen !== state.gen || seq < state.shown) return;
        state.shown = seq;
        applyStats(st);
      }
      setBanner('');
      $('#last-update').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      if (gen !== state.gen || seq < state.shown) return;
      setBanner('Cannot read the dashboard of ' + state.product + ': ' + e.message);
    }
    if (gen === state.gen) {
      clearTimeout(state.timer);
      state.timer = setTimeout(refresh, state.interval * 1000);
    }
  }

  function setBanner(text) {
    const b = $('#banner');
    b.textContent = text;
    b.hidden = !text;
  }

  function applyStats(st) {
    if (!st) return;
    state.stats = st;
    let qps = 0;
    for (const p of Object.values((st.proxy && st.proxy.stats) || {})) {
      if (p && p.stats && p.stats.ops) qps += Number(p.stats.ops.qps) || 0;
    }
    state.qps.push({ t: Date.now(), v: qps });
    while (state.qps.length > CHART_SAMPLES) state.qps.shift();
    renderOverview();
    renderProxies();
    renderSlots();
    renderGroups();
    renderSentinels();
  }

  function clearPanels() {
    for (const id of ['#proxies', '#slots-chart', '#groups', '#sentinels', '#slot-actions', '#ov-chart']) {
      $(id).replaceChildren();
    }
    for (const id of ['ov-product', 'ov-coordinator', 'ov-dashboard', 'ov-version', 'ov-qps', 'ov-sessions', 'ov-memory', 'ov-keys']) {
      $('#' + id).textContent = '';
    }
    $('#ov-product').textContent = state.product;
    $('#last-update').textContent = '';
    setBanner('');
  }

  // ---------------------------------------------------------------- shared lookups

  function adminAddr() {
    return (state.overview && state.overview.model && state.overview.model.admin_addr) || '';
  }

  function groups() {
    return (state.stats && state.stats.group && state.stats.group.models) || [];
  }

  function proxies() {
    return (state.stats && state.stats.proxy && state.stats.proxy.models) || [];
  }

  // haMasters: gid (string) → master address learned from the sentinels.
  function haMasters() {
    return (state.stats && state.stats.sentinels && state.stats.sentinels.masters) || {};
  }

  function redisStats(addr) {
    return ((state.stats && state.stats.group && state.stats.group.stats) || {})[addr];
  }

  // status of a RedisStats / ProxyStats entry.
  function probeStatus(x) {
    if (!x) return 'PENDING';
    if (x.error) return 'ERROR';
    if (x.timeout || !x.stats) return 'TIMEOUT';
    return 'HEALTHY';
  }

  function proxyStatus(x) {
    const st = probeStatus(x);
    if (st === 'HEALTHY' && !x.stats.online) return 'PENDING';
    return st;
  }

  function statusTag(st) {
    return h('span', { class: 'st st-' + st }, st);
  }

  function dashboardLink(path, label, attrs) {
    const admin = adminAddr();
    if (!admin) return h('span', { class: 'muted' }, label);
    return h('a', Object.assign({ href: 'http://' + admin + path, target: '_blank', rel: 'noopener' }, attrs || {}), label);
  }

  // groupsOffHA lists the groups whose sentinel master is not their
  // logical master (servers[0]).
  function groupsOffHA() {
    const masters = haMasters();
    return groups().filter((g) => {
      const ha = masters[String(g.id)];
      return ha && g.servers && g.servers.length && g.servers[0].server !== ha;
    });
  }

  // ---------------------------------------------------------------- overview

  function renderOverview() {
    const ov = state.overview || {};
    const cfg = ov.config || {};
    const names = { zookeeper: 'Zookeeper', zk: 'Zookeeper', etcd: 'Etcd', filesystem: 'Filesystem', fs: 'Filesystem' };
    $('#ov-product').textContent = (ov.model && ov.model.product_name) || state.product;
    $('#ov-coordinator').textContent = cfg.coordinator_name
      ? '[' + (names[cfg.coordinator_name] || cfg.coordinator_name) + '] ' + (cfg.coordinator_addr || '') : '';
    const admin = adminAddr();
    update($('#ov-dashboard'), admin
      ? h('a', { href: 'http://' + admin + '/topom', target: '_blank', rel: 'noopener' }, admin) : '');
    $('#ov-version').textContent = ov.version || '';

    let sessions = 0;
    for (const p of Object.values((state.stats.proxy && state.stats.proxy.stats) || {})) {
      if (p && p.stats && p.stats.sessions) sessions += Number(p.stats.sessions.alive) || 0;
    }
    let memory = 0;
    let keys = 0;
    for (const g of groups()) {
      if (!g.servers || !g.servers.length) continue;
      const rs = redisStats(g.servers[0].server);
      if (!rs || !rs.stats) continue;
      memory += Number(rs.stats.used_memory) || 0;
      for (const [, n] of dbKeys(rs.stats)) keys += n;
    }
    const last = state.qps.length ? state.qps[state.qps.length - 1].v : 0;
    $('#ov-qps').textContent = humanCount(last);
    $('#ov-sessions').textContent = humanCount(sessions);
    $('#ov-memory').textContent = humanSize(memory);
    $('#ov-keys').textContent = humanCount(keys);
    renderChart();
  }

  function renderChart() {
    const svg = $('#ov-chart');
    // Draw in CSS pixels so that the text is not stretched.
    const W = Math.max(200, Math.round(svg.clientWidth || 400)), H = 160, L = 40, B = 18, T = 8, R = 6;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const pts = state.qps;
    const max = Math.max(10, ...pts.map((p) => p.v));
    const top = niceCeil(max);
    const x = (i) => L + (pts.length <= 1 ? 0 : (i * (W - L - R)) / (CHART_SAMPLES - 1));
    const y = (v) => T + (H - T - B) * (1 - v / top);
    const parts = [];
    for (let k = 0; k <= 4; k++) {
      const v = (top * k) / 4;
      parts.push(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }));
      parts.push(s('text', { x: L - 4, y: y(v) + 3, class: 'axis', 'text-anchor': 'end' }, shortNum(v)));
    }
    if (pts.length) {
      const d = pts.map((p, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p.v).toFixed(1)).join(' ');
      parts.push(s('path', { d: d, class: 'qps-line' }));
      pts.forEach((p, i) => parts.push(s('circle', { cx: x(i), cy: y(p.v), r: 2.5, class: 'qps-dot' },
        s('title', null, new Date(p.t).toLocaleTimeString() + ': ' + p.v + ' op/s'))));
      parts.push(s('text', { x: L, y: H - 4, class: 'axis' }, new Date(pts[0].t).toLocaleTimeString()));
      if (pts.length >= 4) {
        parts.push(s('text', { x: x(pts.length - 1), y: H - 4, class: 'axis', 'text-anchor': 'end' },
          new Date(pts[pts.length - 1].t).toLocaleTimeString()));
      }
    }
    svg.replaceChildren(...parts);
  }

  function niceCeil(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) {
      if (m * p >= v) return m * p;
    }
    return 10 * p;
  }

  function shortNum(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(v % 1e6 ? 1 : 0) + 'M';
    if (v >= 1e3) return (v / 1e3).toFixed(v % 1e3 ? 1 : 0) + 'k';
    return String(Math.round(v * 10) / 10);
  }

  // ---------------------------------------------------------------- proxies

  function renderProxies() {
    const stats = (state.stats.proxy && state.stats.proxy.stats) || {};
    const list = proxies();
    if (!list.length) {
      update($('#proxies'), h('p', { class: 'muted' }, 'No proxy.'));
      return;
    }
    const rows = list.map((p) => {
      const ps = stats[p.token];
      const st = proxyStatus(ps);
      const pst = st === 'HEALTHY' ? ps.stats : null;
      const switched = !!(ps && ps.stats && ps.stats.sentinels && ps.stats.sentinels.switched);
      const primaryOnly = !!(ps && ps.stats && ps.stats.backend && ps.stats.backend.primary_only);
      const addrClass = switched ? 'bad' : '';
      const syncClass = st === 'HEALTHY' && !switched ? 'ok' : (st === 'PENDING' || switched ? 'danger' : '');
      return h('tr', { 'data-token': p.token },
        h('td', null, p.id),
        h('td', null,
          h('a', { href: 'http://' + p.admin_addr + '/proxy', target: '_blank', rel: 'noopener' }, 'P'), ' ',
          h('a', { href: 'http://' + p.admin_addr + '/proxy/stats', target: '_blank', rel: 'noopener', class: primaryOnly ? 'bad' : '',
            title: primaryOnly ? 'backend: primary only' : 'proxy stats' }, 'S')),
        h('td', { class: addrClass }, p.proxy_addr, switched ? h('div', { class: 'bad small' }, 'HA: MASTER SWITCHED') : null),
        h('td', { class: addrClass }, p.admin_addr),
        h('td', null, h('button', { type: 'button', class: 'sync ' + syncClass, onclick: () => reinitProxy(p) }, 'SYNC')),
        h('td', null, p.datacenter || ''),
        h('td', null, st === 'ERROR'
          ? h('button', { type: 'button', class: 'danger', title: 'remove even though the proxy cannot be reached', onclick: () => removeProxy(p, true) }, 'FORCE') : null),
        h('td', null, pst ? 'total=' + pst.sessions.total + ',alive=' + pst.sessions.alive : ''),
        h('td', null, pst
          ? 'total=' + pst.ops.total + ',fails=' + pst.ops.fails + ',rsp.errs=' + ((pst.ops.redis && pst.ops.redis.errors) || 0) + ',qps=' + pst.ops.qps
          : statusTag(st)),
        h('td', null, h('button', { type: 'button', class: 'icon danger', title: 'remove proxy', onclick: () => removeProxy(p, false) }, '\u2716')));
    });
    update($('#proxies'), h('table', { class: 'grid' },
      h('thead', null, h('tr', null,
        ['ID', 'Stats', 'Proxy', 'Admin', 'Sync', 'Data Center', '', 'Sessions', 'Commands', ''].map((t) => h('th', null, t)))),
      h('tbody', null, rows)));
  }

  async function reinitProxy(p) {
    let msg = 'Reinit proxy-' + p.id + ' [' + p.admin_addr + ']: push the slots and sentinels to it again?';
    let danger = false;
    const off = groupsOffHA();
    if (off.length) {
      danger = true;
      msg += '\n\nWARNING: the sentinels report a different master for group(s) ' +
        off.map((g) => g.id).join(', ') + '; the proxy will route to the logical masters (servers[0]).';
    }
    await act('Reinit proxy', topom('proxy', 'reinit', state.xauth, p.token), { confirm: msg, danger: danger });
  }

  async function removeProxy(p, force) {
    const msg = (force ? 'FORCE remove' : 'Remove') + ' proxy-' + p.id + ' [' + p.admin_addr + ']?' +
      (force ? '\n\nThe proxy is not asked to shut down.' : '');
    await act('Remove proxy', topom('proxy', 'remove', state.xauth, p.token, force ? 1 : 0), { confirm: msg, danger: true });
  }

  // ---------------------------------------------------------------- slots

  function renderSlots() {
    const slots = state.stats.slots || [];
    renderSlotsChart(slots);
    const sa = state.stats.slot_action || {};
    update($('#slot-action-state'), sa.disabled
      ? h('span', { class: 'bad' }, 'Disabled') : h('span', { class: 'good' }, 'Enabled'));
    $('#slot-action-toggle').textContent = sa.disabled ? 'Enable' : 'Disable';
    $('#slot-action-toggle').dataset.disabled = sa.disabled ? '1' : '0';
    const iv = $('#slot-action-interval');
    if (document.activeElement !== iv) iv.value = sa.interval || 0;
    const progress = (sa.progress && sa.progress.status) || '';
    update($('#slot-action-progress'),
      h('span', { class: progress.startsWith('[ERROR]') ? 'bad' : '' }, progress),
      h('span', { class: 'muted' }, sa.executor ? ' (' + sa.executor + ' in flight)' : ''));

    const pending = slots.filter((m) => m && m.action && m.action.state);
    $('#slot-actions-show').textContent = (state.showActions ? 'Hide Actions' : 'Show Actions') + ' (' + pending.length + ')';
    const box = $('#slot-actions');
    box.hidden = !state.showActions;
    if (!state.showActions) return;
    if (!pending.length) {
      update(box, h('p', { class: 'muted' }, 'No slot action.'));
      return;
    }
    pending.sort((a, b) => (a.action.index || 0) - (b.action.index || 0) || a.id - b.id);
    update(box, h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ['Slot', 'Group', 'Target', 'Index', 'State', ''].map((t) => h('th', null, t)))),
      h('tbody', null, pending.map((m) => h('tr', { 'data-slot': m.id },
        h('td', null, m.id), h('td', null, m.group_id), h('td', null, m.action.target_id || 0),
        h('td', null, m.action.index || 0), h('td', null, m.action.state),
        h('td', null, m.action.state === 'pending'
          ? h('button', { type: 'button', class: 'icon danger', title: 'remove the action',
            onclick: () => act('Remove slot action', topom('slots', 'action', 'remove', state.xauth, m.id),
              { confirm: 'Remove the action of slot-' + m.id + '?' }) }, '\u2716') : null))))));
  }

  function renderSlotsChart(slots) {
    const rows = [['Offline', []], ['Migrating', []], ['Default', []]];
    const count = new Map();
    let offline = 0;
    for (const m of slots) {
      if (!m) continue;
      if (!m.group_id) {
        offline++;
        rows[0][1].push([m.id, 0]);
      } else {
        count.set(m.group_id, (count.get(m.group_id) || 0) + 1);
        rows[2][1].push([m.id, m.group_id]);
      }
      if (m.action && m.action.target_id) rows[1][1].push([m.id, m.action.target_id]);
    }
    for (const g of groups()) if (!count.has(g.id)) count.set(g.id, 0);

    const W = 1000, L = 80, rowH = 22, gap = 8, top = 4;
    const H = top + rows.length * (rowH + gap) + 16;
    const sx = (id) => L + (id * (W - L)) / MAX_SLOTS;
    const parts = [];
    rows.forEach(([label, cells], r) => {
      const y = top + r * (rowH + gap);
      parts.push(s('text', { x: L - 6, y: y + rowH / 2 + 4, class: 'axis', 'text-anchor': 'end' }, label));
      parts.push(s('rect', { x: L, y: y, width: W - L, height: rowH, class: 'slot-bg' }));
      // runs of consecutive slots of the same group
      let run = null;
      const flush = () => {
        if (!run) return;
        parts.push(s('rect', { x: sx(run.beg), y: y, width: Math.max(1, sx(run.end + 1) - sx(run.beg)), height: rowH,
          fill: run.gid ? groupColor(run.gid) : '#9aa0a6', class: 'slot-run' },
        s('title', null, (run.gid ? 'Group-' + run.gid : 'Offline') + ' [' + run.beg + ',' + run.end + ']' +
          (label === 'Migrating' ? ' (migrating to)' : ''))));
        run = null;
      };
      for (const [id, gid] of cells) {
        if (run && run.gid === gid && run.end + 1 === id) run.end = id;
        else {
          flush();
          run = { beg: id, end: id, gid: gid };
        }
      }
      flush();
    });
    for (const t of [0, 256, 512, 768, 1023]) {
      parts.push(s('text', { x: sx(t) + (t === 1023 ? sx(1) - sx(0) : 0), y: H - 3, class: 'axis', 'text-anchor': t === 0 ? 'start' : (t === 1023 ? 'end' : 'middle') }, t));
    }
    const legend = [...count.keys()].sort((a, b) => a - b).map((gid) =>
      h('span', { class: 'legend', 'data-gid': gid }, h('i', { style: 'background:' + groupColor(gid) }), 'Group-' + gid + ':' + count.get(gid)));
    // The offline slots (group 0) are named like every other group in the
    // legend; only the chart's row says Offline.
    if (offline) legend.unshift(h('span', { class: 'legend', 'data-gid': 0 }, h('i', { style: 'background:#9aa0a6' }), 'Group-0:' + offline));
    update($('#slots-chart'),
      s('svg', { viewBox: '0 0 ' + W + ' ' + H, class: 'slots-svg', role: 'img', 'aria-label': 'slots per group' }, parts),
      h('div', { class: 'legends' }, legend));
  }

  async function rebalance() {
    let plan;
    try {
      plan = await request('PUT', topom('slots', 'rebalance', state.xauth, 0));
    } catch (e) {
      await showError('Rebalance preview', e);
      return;
    }
    const byGroup = new Map();
    for (const [sid, gid] of Object.entries(plan || {})) {
      if (!byGroup.has(gid)) byGroup.set(gid, []);
      byGroup.get(gid).push(Number(sid));
    }
    if (!byGroup.size) {
      await openDialog({ title: 'Rebalance All Slots', message: 'Nothing to do: the slots are already balanced.' });
      return;
    }
    const lines = [...byGroup.keys()].sort((a, b) => a - b).map((gid) =>
      'group-[' + gid + '] <== ' + ranges(byGroup.get(gid).sort((a, b) => a - b)).map(([b, e]) => '[' + b + ',' + e + ']').join(','));
    await act('Rebalance All Slots', topom('slots', 'rebalance', state.xauth, 1), {
      confirm: 'Migrate ' + Object.keys(plan).length + ' slot(s)?', detail: lines.join('\n'), danger: true,
    });
  }

  // ---------------------------------------------------------------- groups

  function renderGroups() {
    const list = groups();
    if (!list.length) {
      update($('#groups'), h('p', { class: 'muted' }, 'No group.'));
      return;
    }
    update($('#groups'), ...list.map(renderGroup));
  }

  function renderGroup(g) {
    const masters = haMasters();
    const servers = g.servers || [];
    const ha = masters[String(g.id)] || '';
    const promoting = !!(g.promoting && g.promoting.state);
    const haOutside = ha && !servers.some((x) => x.server === ha);
    const head = h('div', { class: 'group-head' },
      h('span', { class: 'group-id ' + (promoting ? 'bad' : '') }, promoting ? '[' + g.id + ']' : 'Group ' + g.id),
      promoting ? h('span', { class: 'bad' }, ' promoting: ' + g.promoting.state) : null,
      g.out_of_sync ? h('span', { class: 'bad' }, ' (OUT OF SYNC)') : null,
      haOutside ? h('span', { class: 'bad' }, ' [HA: ' + ha + ']') : null,
      servers.length ? null : h('button', { type: 'button', class: 'icon danger', title: 'remove the empty group',
        onclick: () => act('Remove group', topom('group', 'remove', state.xauth, g.id), { confirm: 'Remove group-' + g.id + '?', danger: true }) }, '\u2716 REMOVE'));
    const rows = servers.map((x, i) => renderServer(g, x, i, ha, promoting));
    return h('div', { class: 'group', 'data-gid': g.id }, head,
      h('table', { class: 'grid' },
        h('thead', null, h('tr', null,
          ['', '', 'Server', 'Data Center', 'Master', 'Replica Group', 'SLAVEOF', 'Action', 'Memory', 'Keys', ''].map((t) => h('th', null, t)))),
        h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: 11, class: 'muted' }, 'empty group')))));
  }

  function renderServer(g, x, i, ha, promoting) {
    const servers = g.servers;
    const rs = redisStats(x.server);
    const st = probeStatus(rs);
    const info = (rs && rs.stats) || {};
    const addr = x.server;

    // button: PROMOTE for slaves (only the promoting one during a
    // promotion), SYNC (resync group) for the master.
    let action = null;
    if (i === 0) {
      action = h('button', { type: 'button', class: 'sync' + (g.out_of_sync ? ' danger' : ' ok'), title: 'resync the group',
        onclick: () => resyncGroup(g) }, 'SYNC');
    } else if (!promoting || (g.promoting.index || 0) === i) {
      action = h('button', { type: 'button', class: 'promote', onclick: () => promoteServer(g, x, ha) }, 'PROMOTE');
    }

    // HA colouring of the address
    let haClass = 'ha-undefined';
    if (ha) {
      if (i === 0) haClass = ha === addr ? 'ha-master' : 'ha-not-master';
      else haClass = ha === addr ? 'ha-real-master' : 'ha-slave';
    }

    // observed master
    const observed = info.master_addr ? info.master_addr + ':' + (info.master_link_status || '') : 'NO:ONE';
    const expected = i === 0 ? 'NO:ONE' : servers[0].server + ':up';
    const observedCell = st === 'HEALTHY' ? h('span', { class: observed === expected ? '' : 'bad' }, observed) : statusTag(st);

    const act0 = x.action || {};
    // SLAVEOF: create a sync action (not while one is pending or
    // running); cancel a pending one.
    let slaveof = null;
    if (act0.state === 'pending') {
      slaveof = h('button', { type: 'button', class: 'icon danger', title: 'cancel the sync action',
        onclick: () => act('Sync action', topom('group', 'action', 'remove', state.xauth, addr)) }, '\u2716');
    } else if (act0.state !== 'syncing' && !promoting) {
      slaveof = h('button', { type: 'button', class: 'icon slaveof', title: 'SLAVEOF: create a sync action',
        onclick: () => act('Sync action', topom('group', 'action', 'create', state.xauth, addr),
          { confirm: 'Create a sync action for ' + addr + ' (SLAVEOF ' + (i === 0 ? 'NO ONE' : servers[0].server) + ')?' }) }, 'SLAVEOF');
    }
    const actionText = act0.state ? (act0.state === 'pending' ? 'pending:' + (act0.index || 0) : act0.state) : '';

    const maxmem = Number(info.maxmemory) || 0;
    const memory = st === 'HEALTHY' ? humanSize(info.used_memory) + ' / ' + (maxmem ? humanSize(maxmem) : 'INF.') : '';
    const keys = st === 'HEALTHY' ? dbKeys(info).map(([db, n]) => 'db' + db + ':' + n).join(' ') : '';
    const canRemove = i > 0 || servers.length === 1;

    return h('tr', { 'data-server': addr },
      h('td', null, action),
      h('td', null, dashboardLink('/api/topom/group/info/' + addr, 'S', { title: 'INFO of ' + addr })),
      h('td', { class: 'addr ' + haClass }, addr, ha === addr ? ' [HA]' : ''),
      h('td', null, x.datacenter || ''),
      h('td', null, observedCell),
      h('td', null, h('input', { type: 'checkbox', checked: !!x.replica_group, title: 'serve reads from this server (replica groups)',
        onchange: (e) => setReplicaGroup(g, x, e.target) })),
      h('td', null, slaveof),
      h('td', null, actionText),
      h('td', null, memory),
      h('td', null, keys),
      h('td', null, canRemove ? h('button', { type: 'button', class: 'icon danger', title: 'remove server from the group',
        onclick: () => removeServer(g, x, i, ha) }, '\u2716') : null));
  }

  async function resyncGroup(g) {
    await act('Resync group', topom('group', 'resync', state.xauth, g.id),
      { confirm: 'Resync group-' + g.id + ' (push its slots to every proxy again)?' });
  }

  async function promoteServer(g, x, ha) {
    let msg = 'Promote ' + x.server + ' to the master of group-' + g.id + '?';
    let danger = false;
    if (ha && ha !== x.server) {
      danger = true;
      msg += '\n\nWARNING: the sentinels report ' + ha + ' as the master of this group.';
    }
    await act('Promote server', topom('group', 'promote', state.xauth, g.id, x.server), { confirm: msg, danger: danger });
  }

  async function removeServer(g, x, i, ha) {
    let msg = 'Remove ' + x.server + ' from group-' + g.id + '?';
    if (ha && ha === x.server) msg += '\n\nWARNING: the sentinels report this server as the master of the group.';
    await act('Remove server', topom('group', 'del', state.xauth, g.id, x.server), { confirm: msg, danger: true });
  }

  async function setReplicaGroup(g, x, box) {
    const on = box.checked;
    const r = await act('Replica group', topom('group', 'replica-groups', state.xauth, g.id, x.server, on ? 1 : 0));
    if (r === undefined) box.checked = !on;
  }

  // ---------------------------------------------------------------- sentinels

  function ownsName(name) {
    const prefix = state.product + '-';
    return name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length));
  }

  // parseMasters reads INFO master<i> lines "name=..,status=..,address=..,slaves=..,sentinels=..".
  function parseMasters(info) {
    const out = [];
    for (const [k, v] of Object.entries(info || {})) {
      if (!/^master\d+$/.test(k)) continue;
      const m = {};
      for (const kv of String(v).split(',')) {
        const j = kv.indexOf('=');
        if (j > 0) m[kv.slice(0, j)] = kv.slice(j + 1);
      }
      if (m.name && ownsName(m.name)) out.push(m);
    }
    return out;
  }

  function sentinelSummary(info) {
    const ms = parseMasters(info);
    let down = 0, slaves = 0, sentinels = 0;
    for (const m of ms) {
      if (m.status !== 'ok') down++;
      slaves += Number(m.slaves) || 0;
      sentinels += Number(m.sentinels) || 0;
    }
    const avg = (n) => (ms.length ? Math.round((n / ms.length) * 100) / 100 : 0);
    return 'masters=' + ms.length + ',down=' + down + ',slaves=' + avg(slaves) + ',sentinels=' + avg(sentinels);
  }

  // runIDWarnings compares the run ids a sentinel reports with the INFO
  // run_id of the group servers at those addresses.
  function runIDWarnings(rs) {
    const warn = [];
    const byAddr = {};
    for (const g of groups()) {
      for (const x of g.servers || []) {
        const r = redisStats(x.server);
        if (r && r.stats && r.stats.run_id) byAddr[x.server] = r.stats.run_id;
      }
    }
    for (const [name, sg] of Object.entries((rs && rs.sentinel) || {})) {
      const nodes = [sg.master].concat(sg.slaves || []);
      for (const n of nodes) {
        if (!n || !n.ip || !n.port || !n.runid) continue;
        const addr = n.ip + ':' + n.port;
        if (byAddr[addr] && byAddr[addr] !== n.runid) warn.push(name + ': run_id of ' + addr + ' differs');
      }
    }
    return warn;
  }

  function renderSentinels() {
    const sent = (state.stats && state.stats.sentinels) || {};
    const model = sent.model || {};
    const resync = $('#sentinels-resync');
    resync.classList.toggle('danger', !!model.out_of_sync);
    resync.textContent = model.out_of_sync ? 'SYNC (OUT OF SYNC)' : 'SYNC';
    const servers = model.servers || [];
    if (!servers.length) {
      update($('#sentinels'), h('p', { class: 'muted' }, 'No sentinel.'));
      return;
    }
    const rows = servers.map((addr, i) => {
      const rs = (sent.stats || {})[addr];
      const st = probeStatus(rs);
      const warn = st === 'HEALTHY' ? runIDWarnings(rs) : [];
      return h('tr', { 'data-sentinel': addr },
        h('td', null, i + 1),
        h('td', null, dashboardLink('/api/topom/sentinels/info/' + addr + '/monitored', 'WATCHED'), ' ',
          dashboardLink('/api/topom/sentinels/info/' + addr, 'S')),
        h('td', null, addr),
        h('td', null, st === 'HEALTHY' ? sentinelSummary(rs.stats) : statusTag(st),
          warn.length ? h('div', { class: 'bad small' }, warn.join('; ')) : null),
        h('td', null, st === 'ERROR' ? h('button', { type: 'button', class: 'danger',
          onclick: () => act('Remove sentinel', topom('sentinels', 'del', state.xauth, addr, 1),
            { confirm: 'FORCE remove sentinel ' + addr + '?', danger: true }) }, 'FORCE') : null),
        h('td', null, h('button', { type: 'button', class: 'icon danger', title: 'remove sentinel',
          onclick: () => act('Remove sentinel', topom('sentinels', 'del', state.xauth, addr, 0),
            { confirm: 'Remove sentinel ' + addr + '?', danger: true }) }, '\u2716')));
    });
    update($('#sentinels'), h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ['#', '', 'Sentinel', 'Status', '', ''].map((t) => h('th', null, t)))),
      h('tbody', null, rows)));
  }

  // ---------------------------------------------------------------- forms

  function intValue(sel) {
    const v = $(sel).value.trim();
    return /^-?\d+$/.test(v) ? Number(v) : NaN;
  }

  function onSubmit(sel, fn) {
    $(sel).addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!state.product) return;
      const form = e.target;
      for (const b of form.querySelectorAll('button')) b.disabled = true;
      try {
        await fn(form);
      } finally {
        for (const b of form.querySelectorAll('button')) b.disabled = false;
      }
    });
  }

  function onClick(sel, fn) {
    $(sel).addEventListener('click', (e) => {
      if (state.product) fn(e);
    });
  }

  async function invalid(title, message) {
    await openDialog({ title: title, message: message, kind: 'error' });
  }

  function bindForms() {
    onSubmit('#form-proxy-new', async () => {
      const addr = $('#proxy-new-addr').value.trim();
      if (!addr) return;
      if (await act('New proxy', topom('proxy', 'create', state.xauth, addr)) !== undefined) $('#proxy-new-addr').value = '';
    });

    onSubmit('#form-group-new', async () => {
      const gid = intValue('#group-new-id');
      if (!(gid >= 1 && gid <= 9999)) return invalid('New group', 'The group id must be an integer in [1, 9999].');
      if (await act('New group', topom('group', 'create', state.xauth, gid)) !== undefined) $('#group-new-id').value = '';
    });

    onSubmit('#form-server-add', async () => {
      const dc = $('#server-add-dc').value.trim();
      const addr = $('#server-add-addr').value.trim();
      const gid = intValue('#server-add-gid');
      if (!addr) return;
      if (!(gid >= 1 && gid <= 9999)) return invalid('Add server', 'The group id must be an integer in [1, 9999].');
      const path = dc ? topom('group', 'add', state.xauth, gid, addr, dc) : topom('group', 'add', state.xauth, gid, addr);
      if (await act('Add server', path) !== undefined) $('#server-add-addr').value = '';
    });

    onClick('#groups-resync-all', () => act('Resync all groups', topom('group', 'resync-all', state.xauth),
      { confirm: 'Resync every group (push all slots to every proxy again)?' }));
    onClick('#replica-enable-all', () => act('Replica groups', topom('group', 'replica-groups-all', state.xauth, 1),
      { confirm: 'Enable read replicas for every server of every group?' }));
    onClick('#replica-disable-all', () => act('Replica groups', topom('group', 'replica-groups-all', state.xauth, 0),
      { confirm: 'Disable read replicas for every server of every group?' }));

    onSubmit('#form-slots-range', async () => {
      const beg = intValue('#slots-range-beg');
      const end = intValue('#slots-range-end');
      const gid = intValue('#slots-range-gid');
      if (!(beg >= 0 && end >= beg && end < MAX_SLOTS)) return invalid('Migrate range', 'Need 0 <= from <= to <= 1023.');
      if (!(gid >= 1 && gid <= 9999)) return invalid('Migrate range', 'The group id must be an integer in [1, 9999].');
      await act('Migrate range', topom('slots', 'action', 'create-range', state.xauth, beg, end, gid),
        { confirm: 'Migrate slots [' + beg + ', ' + end + '] to group-' + gid + '?' });
    });

    onSubmit('#form-slots-some', async () => {
      const num = intValue('#slots-some-num');
      const src = intValue('#slots-some-src');
      const dst = intValue('#slots-some-dst');
      if (!(num >= 1 && num <= MAX_SLOTS)) return invalid('Migrate some', 'The number of slots must be in [1, 1024].');
      if (!(src >= 1 && dst >= 1 && src <= 9999 && dst <= 9999)) return invalid('Migrate some', 'Group ids must be integers in [1, 9999].');
      await act('Migrate some', topom('slots', 'action', 'create-some', state.xauth, src, dst, num),
        { confirm: 'Migrate ' + num + ' slot(s) from group-' + src + ' to group-' + dst + '?' });
    });

    onClick('#slot-action-toggle', (e) => {
      const disabled = e.target.dataset.disabled === '1';
      act('Slot actions', topom('slots', 'action', 'disabled', state.xauth, disabled ? 0 : 1));
    });

    onSubmit('#form-slot-interval', async () => {
      const v = intValue('#slot-action-interval');
      if (!(v >= 0 && v <= 1000000)) return invalid('Slot action interval', 'The interval must be in [0, 1000000] microseconds.');
      await act('Slot action interval', topom('slots', 'action', 'interval', state.xauth, v));
      $('#slot-action-interval').blur();
    });

    onClick('#slot-actions-show', () => {
      state.showActions = !state.showActions;
      if (state.stats) renderSlots();
    });
    onClick('#slots-rebalance', rebalance);

    onSubmit('#form-sentinel-add', async () => {
      const addr = $('#sentinel-add-addr').value.trim();
      if (!addr) return;
      if (await act('Add sentinel', topom('sentinels', 'add', state.xauth, addr)) !== undefined) $('#sentinel-add-addr').value = '';
    });
    onClick('#sentinels-resync', () => act('Resync sentinels', topom('sentinels', 'resync-all', state.xauth),
      { confirm: 'Resync every sentinel (monitor the current masters again)?' }));

    const slider = $('#refresh-interval');
    slider.addEventListener('input', () => {
      state.interval = Math.min(60, Math.max(1, Number(slider.value) || 3));
      $('#refresh-value').textContent = state.interval;
    });
    slider.addEventListener('change', () => {
      if (state.product) {
        clearTimeout(state.timer);
        state.timer = setTimeout(refresh, state.interval * 1000);
      }
    });

    $('#products-reload').addEventListener('click', loadProducts);
  }

  // ---------------------------------------------------------------- start

  async function start() {
    bindForms();
    window.addEventListener('hashchange', () => selectProduct(productFromHash()));
    await loadProducts();
    const name = productFromHash();
    if (name) await selectProduct(name);
  }

  // A small hook for tests and the curious: the xauth of a name, with the
  // WebCrypto and the JavaScript SHA-256.
  window.codisFE = {
    xauth: xauthOf,
    sha256Fallback: (text) => window.CodisSHA256.hex(new TextEncoder().encode(text)),
    state: state,
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
