// live.js refreshes the parts of an operator page marked data-live="N":
// every N seconds, while the tab is visible, it fetches the page again and
// swaps in the new copy of each such part (matched by id). It waits while
// the user has focus in, or has typed into, a part, and stops with a note
// when the session has ended. The pages work without it: a reload shows the
// same thing. No dependencies.
(function () {
  'use strict';
  var parts = document.querySelectorAll('[data-live][id]');
  if (!parts.length || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = Math.max(1, parseInt(parts[0].getAttribute('data-live'), 10) || 30) * 1000;
  var stale = document.getElementById('stale');
  var timer = 0;
  var last = Date.now();
  var busy = false;

  function editing(part) {
    var active = document.activeElement;
    if (active && active !== document.body && part.contains(active)) {
      return true;
    }
    var fields = part.querySelectorAll('input, textarea, select');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if ((f.type === 'checkbox' || f.type === 'radio') ? f.checked !== f.defaultChecked : f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function schedule() {
    window.clearTimeout(timer);
    if (document.visibilityState === 'visible') {
      timer = window.setTimeout(refresh, every);
    }
  }

  function refresh() {
    if (busy) {
      return;
    }
    busy = true;
    window.fetch(window.location.href, {credentials: 'same-origin', headers: {'Accept': 'text/html'}, cache: 'no-store'})
      .then(function (r) {
        if (!r.ok || r.redirected) {
          throw new Error('status ' + r.status);
        }
        return r.text();
      })
      .then(function (html) {
        var doc = new window.DOMParser().parseFromString(html, 'text/html');
        var found = 0;
        for (var i = 0; i < parts.length; i++) {
          var fresh = doc.getElementById(parts[i].id);
          if (!fresh) {
            continue;
          }
          found++;
          if (!editing(parts[i])) {
            parts[i].innerHTML = fresh.innerHTML;
          }
        }
        if (!found) {
          throw new Error('no live part in the page');
        }
        last = Date.now();
        if (stale) {
          stale.hidden = true;
        }
      })
      .catch(function () {
        if (stale) {
          stale.hidden = false;
        }
      })
      .then(function () {
        busy = false;
        schedule();
      });
  }

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible') {
      window.clearTimeout(timer);
    } else if (Date.now() - last >= every) {
      refresh();
    } else {
      schedule();
    }
  });
  schedule();
}());
