
(function(){
  var rows = Array.prototype.slice.call(document.querySelectorAll('.timeline'));
  function show(id) {
    var tr = id && document.getElementById(id);
    if (!tr || !tr.closest('details')) { return; }
    tr.closest('details').open = true;
    document.querySelectorAll('tr.sel').forEach(function (r) { r.classList.remove('sel'); });
    tr.classList.add('sel');
    tr.scrollIntoView({block: 'nearest'});
  }
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('.attempt');
    if (a) { show(a.getAttribute('data-row')); }
  });
  if (location.hash) { show(decodeURIComponent(location.hash.slice(1))); }
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && e.target.classList && e.target.classList.contains('attempt')) {
      e.target.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    }
  });
  if (rows.length < 2) { return; }
  var filters = [
    ['all', 'All', function () { return true; }],
    ['retried', 'Retried', function (r) { return +r.getAttribute('data-attempts') > 1; }],
    ['lost', 'Lost', function (r) { return r.getAttribute('data-state') === 'lost'; }],
    ['first-try', 'First try', function (r) {
      return r.getAttribute('data-state') === 'delivered' &&
        r.getAttribute('data-attempts') === '1';
    }]
  ];
  var broken = function (r) { return r.getAttribute('data-verdict') === 'fail'; };
  if (rows.some(broken)) { filters.splice(1, 0, ['failed', 'Failed expect', broken]); }
  var bar = document.createElement('div');
  bar.id = 'filters';
  filters.forEach(function (f) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'filter' + (f[0] === 'all' ? ' on' : '');
    b.setAttribute('data-filter', f[0]);
    b.textContent = f[1] + ' (' + rows.filter(f[2]).length + ')';
    b.addEventListener('click', function () {
      bar.querySelectorAll('button').forEach(function (x) { x.classList.remove('on'); });
      b.classList.add('on');
      rows.forEach(function (r) { r.classList.toggle('hidden', !f[2](r)); });
    });
    bar.appendChild(b);
  });
  var first = document.querySelector('.run');
  first.parentNode.insertBefore(bar, first);
})();
