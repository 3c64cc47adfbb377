// ebpfrepo catalogue: search as you type, filters, version selector,
// copy buttons. The pages work without this script; it only enhances.
(function () {
  'use strict';

  var root = document.body.getAttribute('data-root') || '';

  // Snippets name the repository by a placeholder when the build did not
  // know its URL; when served over HTTP(S) the page knows it.
  function fillRepoURL() {
    if (!/^https?:$/.test(location.protocol)) return;
    var base = new URL(root || './', location.href).href.replace(/\/$/, '');
    document.querySelectorAll('.repo-url').forEach(function (el) {
      el.textContent = base;
    });
    document.querySelectorAll('.repo-url-note').forEach(function (el) { el.hidden = true; });
  }

  function copyButtons() {
    document.querySelectorAll('pre[data-copy]').forEach(function (pre) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'copy';
      b.textContent = 'Copy';
      b.setAttribute('aria-label', 'Copy to clipboard');
      b.addEventListener('click', function () {
        var text = pre.querySelector('code').textContent;
        var done = function (ok) {
          b.textContent = ok ? 'Copied' : 'Select & copy';
          setTimeout(function () { b.textContent = 'Copy'; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
        } else {
          var r = document.createRange();
          r.selectNodeContents(pre.querySelector('code'));
          var s = window.getSelection();
          s.removeAllRanges();
          s.addRange(r);
          done(false);
        }
      });
      pre.appendChild(b);
    });
  }

  // The version menu is a <details>: it works without script; this
  // closes it on Escape or a click elsewhere.
  function versionMenu() {
    var menu = document.getElementById('version-menu');
    if (!menu) return;
    document.addEventListener('click', function (e) {
      if (menu.open && !menu.contains(e.target)) menu.open = false;
    });
    menu.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && menu.open) {
        menu.open = false;
        menu.querySelector('summary').focus();
      }
    });
  }

  // The theme follows the system until the visitor picks one: system →
  // dark → light → system, remembered in localStorage.
  function themeToggle() {
    var b = document.getElementById('theme-toggle');
    if (!b) return;
    var html = document.documentElement;
    var order = ['', 'dark', 'light'];
    var labels = { '': 'follows the system', dark: 'dark', light: 'light' };
    var glyphs = { '': '◐', dark: '☾', light: '☀' };
    function get() { try { return localStorage.getItem('ebpfrepo-theme') || ''; } catch (e) { return ''; } }
    function apply(t) {
      if (t) html.setAttribute('data-theme', t); else html.removeAttribute('data-theme');
      b.textContent = glyphs[t];
      b.setAttribute('aria-label', 'Colour theme: ' + labels[t]);
      b.title = 'Colour theme: ' + labels[t];
    }
    apply(get());
    b.hidden = false;
    b.addEventListener('click', function () {
      var next = order[(order.indexOf(get()) + 1) % order.length];
      try { if (next) localStorage.setItem('ebpfrepo-theme', next); else localStorage.removeItem('ebpfrepo-theme'); } catch (e) { /* private mode */ }
      apply(next);
    });
  }

  // --- search -------------------------------------------------------

  function lower(s) { return (s || '').toLowerCase(); }
  function words(s) { return lower(s).split(/\s+/).filter(Boolean); }

  // A record per package: from search.json when it loads, else from the
  // list itself (file:// forbids fetch; helper names then are not known).
  function recordFromCard(li) {
    var d = li.querySelector('.pkg-desc');
    return {
      name: li.getAttribute('data-name'),
      description: d ? d.textContent : '',
      keywords: words(li.getAttribute('data-keywords')),
      types: words(li.getAttribute('data-types')),
      platforms: words(li.getAttribute('data-platforms')),
      helpers: [],
      kfuncs: []
    };
  }

  // score returns 0 when a term does not match, else higher for better
  // places: the name first, then keywords and types, helpers, description.
  function scoreTerm(r, t) {
    var name = lower(r.name), best = 0;
    function consider(s) { if (s > best) best = s; }
    if (name === t) consider(100);
    else if (name.indexOf(t) === 0) consider(60);
    else if (name.indexOf(t) >= 0) consider(40);
    r.keywords.forEach(function (k) { k = lower(k); if (k === t) consider(30); else if (k.indexOf(t) >= 0) consider(15); });
    r.types.forEach(function (k) { k = lower(k); if (k === t) consider(30); else if (k.indexOf(t) === 0) consider(15); });
    r.helpers.concat(r.kfuncs).forEach(function (h) { h = lower(h); if (h === t) consider(25); else if (h.indexOf(t) >= 0) consider(10); });
    if (lower(r.description).indexOf(t) >= 0) consider(8);
    return best;
  }

  function score(r, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var s = scoreTerm(r, terms[i]);
      if (!s) return 0;
      total += s;
    }
    return total || 1;
  }

  function search() {
    var list = document.getElementById('packages');
    var box = document.getElementById('search');
    if (!list || !box) return;
    var q = document.getElementById('q');
    var ft = document.getElementById('filter-type');
    var fp = document.getElementById('filter-platform');
    var so = document.getElementById('sort');
    var count = document.getElementById('result-count');
    var none = document.getElementById('no-results');
    var cards = Array.prototype.slice.call(list.children);
    var records = {};
    cards.forEach(function (li) { records[li.getAttribute('data-name')] = recordFromCard(li); });
    box.hidden = false;

    var params = new URLSearchParams(location.search);
    q.value = params.get('q') || '';
    setSelect(ft, params.get('type'));
    setSelect(fp, params.get('platform'));
    if (so) setSelect(so, params.get('sort'));

    function setSelect(sel, v) {
      if (!v) return;
      for (var i = 0; i < sel.options.length; i++) {
        if (sel.options[i].value === v) { sel.value = v; return; }
      }
    }

    function update() {
      var terms = words(q.value);
      var type = ft.value, platform = fp.value;
      var shown = [];
      cards.forEach(function (li, i) {
        var r = records[li.getAttribute('data-name')];
        var ok = (!type || r.types.indexOf(type) >= 0) && (!platform || r.platforms.indexOf(platform) >= 0);
        var s = ok ? (terms.length ? score(r, terms) : 1) : 0;
        li.hidden = !s;
        if (s) shown.push({ li: li, s: s, i: i });
      });
      var by = so ? so.value : '';
      shown.sort(function (a, b) {
        if (by === 'updated') {
          var ua = a.li.getAttribute('data-updated') || '', ub = b.li.getAttribute('data-updated') || '';
          if (ua !== ub) return ua < ub ? 1 : -1;
          return a.i - b.i;
        }
        if (by === 'name') return a.i - b.i; // the page lists names in natural order
        return b.s - a.s || a.i - b.i;
      });
      shown.forEach(function (x) { list.appendChild(x.li); });
      cards.forEach(function (li) { if (li.hidden) list.appendChild(li); });
      none.hidden = shown.length !== 0 || cards.length === 0;
      var filtered = terms.length || type || platform;
      count.textContent = filtered
        ? shown.length + ' of ' + cards.length + ' package' + (cards.length === 1 ? '' : 's')
        : cards.length + ' package' + (cards.length === 1 ? '' : 's');
      var p = new URLSearchParams();
      if (q.value.trim()) p.set('q', q.value.trim());
      if (type) p.set('type', type);
      if (platform) p.set('platform', platform);
      if (so && so.value) p.set('sort', so.value);
      var s = p.toString();
      try { history.replaceState(null, '', s ? '?' + s : location.pathname); } catch (e) { /* file:// */ }
    }

    q.addEventListener('input', update);
    ft.addEventListener('change', update);
    fp.addEventListener('change', update);
    if (so) so.addEventListener('change', update);
    q.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { q.value = ''; update(); }
      if (e.key === 'Enter') {
        var first = cards.filter(function (li) { return !li.hidden; })
          .sort(function (a, b) { return Array.prototype.indexOf.call(list.children, a) - Array.prototype.indexOf.call(list.children, b); })[0];
        var a = first && first.querySelector('h3 a');
        if (a) a.click();
      }
    });
    document.addEventListener('keydown', function (e) {
      var tag = (document.activeElement && document.activeElement.tagName) || '';
      if (e.key === '/' && !/^(INPUT|SELECT|TEXTAREA)$/.test(tag) && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        q.focus();
      }
    });
    update();

    if (location.protocol === 'file:') return; // fetch of file:// is blocked
    fetch(root + 'search.json', { credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error(res.status); return res.json(); })
      .then(function (idx) {
        (idx.packages || []).forEach(function (p) {
          if (!records[p.name]) return;
          records[p.name] = {
            name: p.name, description: p.description || '',
            keywords: p.keywords || [], types: p.types || [], platforms: p.platforms || [],
            helpers: p.helpers || [], kfuncs: p.kfuncs || []
          };
        });
        document.documentElement.setAttribute('data-search', 'ready');
        update();
      })
      .catch(function () { document.documentElement.setAttribute('data-search', 'dom'); });
  }

  themeToggle();
  fillRepoURL();
  copyButtons();
  versionMenu();
  search();
  document.documentElement.setAttribute('data-js', 'ready');
})();
